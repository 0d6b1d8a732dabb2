#include "inspect/tools/rf_tool.h"

#include <fmt/core.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "core/atomic_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/html.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "data/catalog_text.h"
#include "data/data_options.h"
#include "eval/semantic_provider.h"
#include "inspect/inspect_inputs.h"
#include "inspect/occlusion_rf.h"
#include "inspect/squash.h"
#include "inspect/unit_report.h"
#include "inspect/unit_scan.h"
#include "models/receptive_field.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

namespace {

struct UnitField {
  int64_t unit = 0;
  int64_t images = 0;
  double size = 0;
  torch::Tensor map;
};

// The averaged map as a picture: grey levels scaled to its maximum, each cell
// stride x stride pixels, the unit's location marked.
cv::Mat render_field(const torch::Tensor& map, int stride, int radius) {
  const auto m = map.contiguous();
  const double max_value = std::max(m.max().item<double>(), 1e-12);
  cv::Mat grey(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_8U);
  const float* v = m.data_ptr<float>();
  for (int i = 0; i < grey.rows * grey.cols; ++i)
    grey.data[i] = cv::saturate_cast<uint8_t>(255.0 * v[i] / max_value);
  cv::Mat up, colour;
  cv::resize(grey, up, cv::Size(), stride, stride, cv::INTER_NEAREST);
  cv::applyColorMap(up, colour, cv::COLORMAP_JET);
  const int c = radius * stride + stride / 2;
  cv::drawMarker(colour, cv::Point(c, c), cv::Scalar(255, 255, 255), cv::MARKER_CROSS, 7, 1);
  return colour;
}

}  // namespace

int run_rf_tool(const std::string& program, const std::vector<std::string>& args) {
  Config config(program,
                "empirical receptive fields by occlusion (Zhou et al. 2015, section 3.2) next to "
                "the theoretical ones");
  add_common_options(config);
  data::add_data_options(config);
  add_inspect_input_options(config, "rf-out", "rf.csv, rf.json, index.html and maps/");
  add_inspect_layer_options(config);
  config.section("rf", "[rf] receptive fields by occlusion");
  config.add<std::string>("rf.units", "0-7",
                          "units of each layer: a list of units and ranges (0-7,12) or all");
  config.add<int>("rf.top_images", 10, "each unit's top images (by spatial maximum) occluded",
                  Bounds::at_least(1));
  config.add<int>("rf.patch", 11, "side of the random-pixel patches", Bounds::at_least(1));
  config.add<int>("rf.stride", 3, "step of the occlusion grid", Bounds::at_least(1));
  config.add<int>("rf.seed", 0, "seed of the patches' random pixels");
  config.add<double>("rf.fraction", 0.5,
                     "empirical size: the region of the averaged map above this fraction of its "
                     "maximum, as the side of a square of the same area",
                     Bounds::within(0, 1));
  config.add<int>("rf.batch_size", 64, "occluded images per forward pass", Bounds::at_least(1));
  if (auto code = parse_or_exit(config, args)) return *code;

  InspectedModel inspected = load_inspected_model(config);
  const InspectInputs inputs = list_inspect_inputs(config);
  std::vector<UnitImage> images;
  for (const auto& i : inputs.images)
    images.push_back({i.file, {}, i.name, i.label});

  UnitScanOptions scan_options = unit_scan_options_from_config(config, inspected.meta);
  scan_options.top_images = config.get<int>("rf.top_images");
  scan_options.dissect = false;
  scan_options.draw = false;
  scan_options.picture = UnitPicture::kSegmentation;
  scan_options.cache_bytes = 0;
  log::info("pass over {} images for each unit's top {}", images.size(), scan_options.top_images);
  const UnitScan scan = scan_units(inspected.model, inspected.device, images, scan_options);

  OcclusionOptions occ;
  occ.patch = config.get<int>("rf.patch");
  occ.stride = config.get<int>("rf.stride");
  occ.seed = static_cast<uint64_t>(config.get<int>("rf.seed"));
  occ.fraction = config.get<double>("rf.fraction");
  occ.batch_size = config.get<int>("rf.batch_size");
  occ.normalize = scan_options.normalize;
  const int side = scan_options.input_size;
  const auto grid = occlusion_positions(side, occ.patch, occ.stride);
  const models::LayerTaps taps(inspected.model);
  torch::NoGradGuard no_grad;
  inspected.model.eval();

  const fs::path out = config.get<std::string>("inspect.out");
  config.write_resolved(out);
  std::ostringstream csv, html;
  csv << "layer,unit,images,empirical_size,theoretical_size\n";
  JsonWriter json;
  json.begin_object();
  json.value("input_size", int64_t{side});
  json.value("patch", int64_t{occ.patch});
  json.value("stride", int64_t{occ.stride});
  json.value("fraction", occ.fraction);
  json.value("top_images", int64_t{scan_options.top_images});
  json.begin_array("layers");
  html << html_page_head("Receptive fields of " + inspected.meta.arch,
                         "td, th { padding: 2px 10px; text-align: left; }\n"
                         "figure { display: inline-block; margin: 4px; font-size: 0.85em; }\n")
       << "<h1>Receptive fields of " << html_escape(inspected.meta.arch) << " ("
       << html_escape(inspected.source) << ")</h1>\n"
       << "<p>Each unit's " << scan_options.top_images << " top images at " << side
       << " px, occluded by " << occ.patch << "&times;" << occ.patch
       << " patches of random pixels every " << occ.stride << " px (" << grid.size() << "&times;"
       << grid.size()
       << " positions); the discrepancy at the unit's peak, re-centred on its location (the "
          "cross) and averaged. Empirical size: the side of the square with the area where the "
          "averaged map exceeds "
       << occ.fraction << " of its maximum.</p>\n<table><tr><th>layer</th><th>theoretical</th>"
       << "<th>empirical (mean &plusmn; std)</th><th>units</th></tr>\n";
  std::ostringstream figures;
  std::vector<std::string> table_lines;
  const auto start = std::chrono::steady_clock::now();
  int64_t occluded = 0;
  for (const auto& layer : scan.layers) {
    const auto units = parse_unit_list(config.get<std::string>("rf.units"), layer.units);
    std::string theoretical = "n/a";
    std::optional<models::ReceptiveField> field;
    try {
      field = models::receptive_field_of(inspected.model, layer.layer);
      theoretical = std::to_string(field->size);
    } catch (const ModelError& e) {
      log::warn("{}; units are located at their cell's centre scaled to the input", e.what());
    }
    auto locate = [&](int64_t cell, int64_t cells) {
      return field ? peak_location(cell, *field) : peak_location(cell, cells, side);
    };
    // Which of the chosen units each image is a top image of.
    std::map<size_t, std::vector<int64_t>> by_image;
    for (int64_t u : units)
      for (const auto& t : layer.top[static_cast<size_t>(u)])
        by_image[t.image].push_back(u);
    std::map<int64_t, RecentredAverage> averages;
    for (int64_t u : units)
      averages.emplace(u, RecentredAverage(side, occ));
    size_t done = 0;
    for (const auto& [image, image_units] : by_image) {
      const cv::Mat rgb = data::decode_rgb(images[image].image, scan_options.max_pixels);
      const auto input = squashed_input(rgb, side, scan_options.normalize);
      const auto maps = taps.run(
          input.unsqueeze(0).to(inspected.device).contiguous(torch::MemoryFormat::ChannelsLast),
          {layer.layer})[0][0];
      const auto peaks = unit_peaks(maps, image_units);
      const auto d = occlusion_discrepancy(taps, layer.layer, input, peaks, occ, inspected.device,
                                           static_cast<uint64_t>(image));
      for (size_t k = 0; k < peaks.size(); ++k) {
        averages.at(peaks[k].unit)
            .add(d[k], locate(peaks[k].row, maps.size(1)), locate(peaks[k].col, maps.size(2)));
      }
      occluded += static_cast<int64_t>(grid.size() * grid.size());
      if (++done % std::max<size_t>(1, by_image.size() / 10) == 0)
        log::info("{}: {}/{} images occluded", layer.layer, done, by_image.size());
    }
    std::vector<double> sizes;
    const std::string folder = "maps/" + layer.layer;
    fs::create_directories(out / folder);
    figures << "<h2>" << html_escape(layer.layer) << "</h2>\n";
    for (int64_t u : units) {
      const auto& avg = averages.at(u);
      const auto map = avg.average();
      const double size = empirical_rf_size(map, occ.stride, occ.fraction);
      sizes.push_back(size);
      csv << layer.layer << ',' << u << ',' << avg.images() << ',' << fmt::format("{:.2f}", size)
          << ',' << theoretical << '\n';
      const std::string file = fmt::format("{}/unit_{:04d}.png", folder, u);
      if (!cv::imwrite((out / file).string(), render_field(map, occ.stride, avg.radius())))
        throw IoError(fmt::format("cannot write {}", (out / file).string()));
      figures << "<figure><img src=\"" << html_escape(file) << "\" alt=\"unit " << u
              << "\"><figcaption>unit " << u << ": " << fmt::format("{:.1f}", size)
              << " px</figcaption></figure>\n";
    }
    double mean = 0, var = 0;
    for (double s : sizes)
      mean += s / static_cast<double>(sizes.size());
    for (double s : sizes)
      var += (s - mean) * (s - mean) / static_cast<double>(sizes.size());
    const double sd = std::sqrt(var);
    html << "<tr><td>" << html_escape(layer.layer) << "</td><td>" << theoretical << "</td><td>"
         << fmt::format("{:.1f} &plusmn; {:.1f}", mean, sd) << "</td><td>" << sizes.size()
         << "</td></tr>\n";
    table_lines.push_back(fmt::format("| {} | {} | {:.1f} ± {:.1f} | {} |", layer.layer,
                                      theoretical, mean, sd, sizes.size()));
    json.begin_object();
    json.value("layer", layer.layer);
    json.value("theoretical_size", theoretical);
    json.value("empirical_mean", mean);
    json.value("empirical_std", sd);
    json.value("units", static_cast<int64_t>(sizes.size()));
    json.value("sizes", sizes);
    json.end_object();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json.end_array();
  json.value("occluded_images", occluded);
  json.value("occlusion_seconds", seconds);
  json.end_object();
  html << "</table>\n" << figures.str() << "</body></html>\n";
  write_file_atomic(out / "rf.csv", csv.str());
  write_file_atomic(out / "rf.json", json.str());
  write_file_atomic(out / "index.html", html.str());
  fmt::print("| layer | theoretical | empirical (mean ± std) | units |\n|---|---|---|---|\n");
  for (const auto& line : table_lines)
    fmt::print("{}\n", line);
  fmt::print("occluded images {} ({:.1f}/s)\nreport {}\n", occluded,
             seconds > 0 ? static_cast<double>(occluded) / seconds : 0.0,
             (out / "index.html").string());
  return 0;
}

}  // namespace scenery::inspect
