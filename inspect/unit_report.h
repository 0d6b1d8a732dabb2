// What unit dissection and unit segmentation write: units.csv, summary.json and
// an HTML report (index.html, with each unit's top images as one JPEG strip in
// units/) that opens offline in a browser: no scripts, no network.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "inspect/unit_scan.h"

namespace scenery::inspect {

struct UnitReportInfo {
  std::string title;                     // "Unit dissection of resnet18 (run/best.ckpt)"
  std::string description;               // one paragraph: data, quantile, what the pictures show
  std::vector<std::string> class_names;  // annotation value k -> class_names[k - 1]
  double iou_threshold = 0.04;
};

// One unit's standing, as the CSV and the report list it.
struct UnitRow {
  int64_t unit = 0;
  std::vector<UnitIoU::Match> best;  // up to 3; empty without annotations
  float top_activation = 0;          // its highest spatial maximum
  bool detector = false;             // best IoU >= the threshold
};
// Units of a layer, best IoU first (without annotations: highest activation first).
std::vector<UnitRow> rank_units(const LayerUnits& layer, double iou_threshold);

// The class's first synonym ("airplane" of "airplane;aeroplane;plane"), or class_<k>.
std::string class_name_of(const UnitReportInfo& info, int64_t cls);

// Writes units.csv, summary.json, index.html and units/<layer>/unit_<u>.jpg into
// `out`; returns the summary's text. Throws IoError when a file cannot be written.
std::string write_unit_report(const std::filesystem::path& out, const UnitScan& scan,
                              const std::vector<UnitImage>& images, const UnitReportInfo& info);

}  // namespace scenery::inspect
