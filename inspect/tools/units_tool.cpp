#include "inspect/tools/units_tool.h"

#include <fmt/core.h>

#include <sstream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "data/catalog_text.h"
#include "data/data_options.h"
#include "eval/semantic_provider.h"
#include "inspect/inspect_inputs.h"
#include "inspect/unit_report.h"
#include "inspect/unit_scan.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

namespace {

enum class UnitsMode { kDissect, kSegment };

void add_units_options(Config& c, UnitsMode mode) {
  c.section("units", "[units] unit dissection and segmentation");
  add_inspect_layer_options(c);
  c.add<int>("units.top_images", mode == UnitsMode::kDissect ? 10 : 5,
             "images shown per unit: its best by spatial maximum", Bounds::at_least(1));
  c.add<int>("units.thumbnail", 96, "side in pixels of each shown image", Bounds::at_least(1));
  c.add<std::string>("units.class_names", "",
                     "annotation class names, one per line (value 1 first); default: the "
                     "dataset's objectInfo150.csv");
  if (mode == UnitsMode::kDissect) {
    c.add<double>("units.quantile", 0.995,
                  "T_u: this exact quantile of each unit's activations over the dataset",
                  Bounds::within(0, 1));
    c.add<double>("units.iou_threshold", 0.04,
                  "a unit is a detector when its best IoU reaches this (Network Dissection)",
                  Bounds::within(0, 1));
    c.add<int>("units.cache_mb", 2048,
               "keep the first pass's activations in memory up to this size, so that the "
               "second pass does not run the network again",
               Bounds::at_least(0));
  } else {
    c.add<double>("units.segment_fraction", 0.2,
                  "the segmented region: the filtered map above this fraction of its maximum",
                  Bounds::within(0, 1));
  }
}

std::vector<std::string> read_names(const fs::path& file) {
  const std::string text = data::read_text_file(file, "class name file");
  data::LineReader lines(text);
  std::string_view line;
  std::vector<std::string> names;
  while (lines.next(line))
    if (!data::trim_view(line).empty()) names.emplace_back(data::trim_view(line));
  return names;
}

int run_units(UnitsMode mode, const std::string& program, const std::vector<std::string>& args) {
  const bool dissect = mode == UnitsMode::kDissect;
  Config config(program, dissect ? "unit dissection: which units of a layer detect which "
                                   "annotated classes (Network Dissection's IoU), with an HTML "
                                   "report"
                                 : "unit segmentation: each unit's region on its top images "
                                   "(Zhou et al. 2015), with an HTML report");
  add_common_options(config);
  data::add_data_options(config);
  add_inspect_input_options(config, dissect ? "units-out" : "segment-out",
                            "units.csv, summary.json, index.html and units/");
  add_units_options(config, mode);
  if (auto code = parse_or_exit(config, args)) return *code;

  InspectedModel inspected = load_inspected_model(config);
  const InspectInputs inputs = list_inspect_inputs(config);

  UnitScanOptions o = unit_scan_options_from_config(config, inspected.meta);
  o.top_images = config.get<int>("units.top_images");
  o.thumbnail = config.get<int>("units.thumbnail");
  o.dissect = dissect;
  UnitReportInfo info;
  if (dissect) {
    o.quantile = config.get<double>("units.quantile");
    o.picture = UnitPicture::kThresholdRegion;
    o.cache_bytes = int64_t{config.get<int>("units.cache_mb")} << 20;
    info.iou_threshold = config.get<double>("units.iou_threshold");
  } else {
    o.picture = UnitPicture::kSegmentation;
    o.segment_fraction = config.get<double>("units.segment_fraction");
    o.cache_bytes = 0;  // one forward per pass; pass 2 runs only over the top images
  }
  info.class_names = config.get<std::string>("units.class_names").empty()
                         ? inputs.object_names
                         : read_names(config.get<std::string>("units.class_names"));
  if (!info.class_names.empty()) o.classes = static_cast<int64_t>(info.class_names.size());

  std::vector<UnitImage> images;
  for (const auto& i : inputs.images)
    images.push_back({i.file, dissect ? i.annotation : fs::path(), i.name, i.label});
  size_t progress_lines = 0;
  o.progress = [&](const std::string& line) {
    // About ten lines per pass.
    if (++progress_lines % std::max<size_t>(1, images.size() / std::max(1, o.batch_size) / 10) == 0)
      log::info("{}", line);
  };
  const UnitScan scan = scan_units(inspected.model, inspected.device, images, o);
  for (const auto& [i, why] : scan.skipped)
    log::warn("skipped {}: {}", images[i].image.string(), why);

  const fs::path out = config.get<std::string>("inspect.out");
  config.write_resolved(out);
  info.title = fmt::format("{} of {} ({})", dissect ? "Unit dissection" : "Unit segmentation",
                           inspected.meta.arch, inspected.source);
  if (dissect) {
    info.description = fmt::format(
        "{} images at {} px. T_u is the exact {:g} quantile of each unit's activations over "
        "every position of every image. {} Each unit's {} best images (by spatial maximum) show "
        "its region A = bilinear(map) > T_u as (A * 0.8 + 0.2) * image.",
        scan.images, o.input_size, o.quantile,
        scan.annotated
            ? fmt::format("IoU(u, c) = sum |A and c| / sum |A or c| over the whole dataset "
                          "(annotation 0 ignored); a unit is a detector at IoU >= {:g}.",
                          info.iou_threshold)
            : std::string("The images have no annotations, so no unit is labelled."),
        o.top_images);
  } else {
    info.description = fmt::format(
        "{} images at {} px. Each unit's {} best images (by spatial maximum), segmented as Zhou "
        "et al. 2015: |map|, 3x3 mean filter, divided by its maximum, bilinear to the image, "
        "above {:g}; the region is shown as (mask * 0.8 + 0.2) * image.",
        scan.images, o.input_size, o.top_images, o.segment_fraction);
  }
  write_unit_report(out, scan, images, info);
  const double seconds = scan.pass1_seconds + scan.pass2_seconds;
  fmt::print("images {} ({:.1f} images/s over both passes{})\n", scan.images,
             seconds > 0 ? static_cast<double>(scan.images) / seconds : 0.0,
             scan.cached ? ", activations kept in memory" : "");
  for (const auto& layer : scan.layers) {
    if (!layer.iou) {
      fmt::print("{}: {} units\n", layer.layer, layer.units);
      continue;
    }
    const auto rows = rank_units(layer, info.iou_threshold);
    const auto detectors =
        std::count_if(rows.begin(), rows.end(), [](const UnitRow& r) { return r.detector; });
    fmt::print("{}: {} units, {} detectors (IoU >= {:g})\n", layer.layer, layer.units, detectors,
               info.iou_threshold);
  }
  fmt::print("report {}\n", (out / "index.html").string());
  return 0;
}

}  // namespace

int run_units_tool(const std::string& program, const std::vector<std::string>& args) {
  return run_units(UnitsMode::kDissect, program, args);
}

int run_segment_tool(const std::string& program, const std::vector<std::string>& args) {
  return run_units(UnitsMode::kSegment, program, args);
}

}  // namespace scenery::inspect
