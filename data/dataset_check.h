// `scenery-data check` and `stats`: read-only scans of a catalog. check
// decodes every image (and mask / semantic map) to find missing and corrupt
// files and to measure image sizes; stats only counts labels.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/catalog.h"
#include "data/image_header.h"

namespace scenery::data {

struct CheckOptions {
  bool decode = true;         // false: class histogram only (stats), no file access
  bool progress = true;       // show a scenery::Progress bar
  size_t max_problems = 100;  // problems kept verbatim in the report (all are counted)
  // Larger images count as corrupt, with the loader's reason (data/decode.h).
  int64_t max_image_pixels = kDefaultMaxImagePixels;
};

struct CheckReport {
  int64_t samples = 0;
  int64_t missing = 0;                // samples with at least one missing file
  int64_t corrupt = 0;                // samples with a file that does not decode as expected
  std::vector<std::string> problems;  // "FILE: reason", in sample order
  std::vector<int64_t> class_counts;  // per label (size = num_classes)
  int64_t unlabelled = 0;             // label -1 (test splits)
  // Decoded image sizes (width x height -> images), empty for stats.
  std::map<std::pair<int, int>, int64_t> image_sizes;
  bool ok() const { return missing == 0 && corrupt == 0; }
};

// Scans `catalog` read-only (in parallel when decoding). Never throws for a
// bad file: it is counted and named in the report.
CheckReport check_catalog(const Catalog& catalog, const CheckOptions& options);

// The human-readable report printed by the tool.
std::string format_check_report(const Catalog& catalog, const CheckReport& report);

}  // namespace scenery::data
