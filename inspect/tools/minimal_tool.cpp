#include "inspect/tools/minimal_tool.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/cli.h"
#include "core/csv_text.h"
#include "core/error.h"
#include "core/html.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "data/data_options.h"
#include "data/decode.h"
#include "eval/semantic_provider.h"
#include "inspect/inspect_inputs.h"
#include "inspect/minimal_image.h"
#include "inspect/predict_output.h"
#include "inspect/unit_report.h"

namespace scenery::inspect {
namespace fs = std::filesystem;
namespace {

// The caption's tail: the classes kept; superpixels have none to name, and an
// empty minimal image means the mean image alone is given this answer.
std::string kept_caption(const std::vector<std::string>& kept_classes, double kept_fraction) {
  if (!kept_classes.empty()) return fmt::format(" ({})", fmt::join(kept_classes, ", "));
  return kept_fraction == 0 ? " (nothing: the mean image alone gets this answer)" : "";
}

}  // namespace

int run_minimal_tool(const std::string& program, const std::vector<std::string>& args) {
  Config config(program,
                "minimal images: remove segments while the classifier stays correct (Zhou et al. "
                "2015), and which objects each scene's minimal images keep");
  add_common_options(config);
  data::add_data_options(config);
  add_inspect_input_options(config, "minimal-out",
                            "minimal.csv, per_scene.csv, summary.json, index.html and images/");
  config.section("minimal", "[minimal] minimal images");
  config.add<int>("minimal.superpixel_size", 16,
                  "without annotations: SLIC superpixels of about this side (pixels)",
                  Bounds::at_least(1));
  config.add<int>("minimal.max_images", 0, "stop after this many images (0: all)",
                  Bounds::at_least(0));
  config.add<int>("minimal.shown", 60, "images shown in index.html", Bounds::at_least(0));
  if (auto code = parse_or_exit(config, args)) return *code;

  InspectedModel inspected = load_inspected_model(config);
  const InspectInputs inputs = list_inspect_inputs(config);
  MinimalOptions o;
  o.input_size = inspect_input_size(config, inspected.meta);
  o.normalize = eval::checkpoint_normalization(inspected.meta);
  o.batch_size = config.get<int>("inspect.batch_size");
  const int superpixel = config.get<int>("minimal.superpixel_size");
  const int64_t max_pixels = config.get<int64_t>("data.max_image_pixels");
  const auto max_images = static_cast<size_t>(config.get<int>("minimal.max_images"));
  const int shown = config.get<int>("minimal.shown");
  UnitReportInfo names;  // for class_name_of
  names.class_names = inputs.object_names;
  const auto& scene_names =
      inputs.class_names.empty() ? inspected.meta.class_names : inputs.class_names;
  auto scene_name = [&](int64_t c) {
    return c >= 0 && c < static_cast<int64_t>(scene_names.size())
               ? scene_names[static_cast<size_t>(c)]
               : fmt::format("class_{}", c);
  };

  const fs::path out = config.get<std::string>("inspect.out");
  config.write_resolved(out);
  fs::create_directories(out / "images");
  std::ostringstream csv, html;
  csv << "image,label,target,correct,segments,kept_segments,kept_fraction,p_start,p_final,"
         "kept_classes,segment_classes\n";
  html << html_page_head("Minimal images",
                         fmt::format("figure {{ display: inline-block; vertical-align: top; "
                                     "margin: 6px; font-size: 0.8em; overflow-wrap: anywhere; "
                                     "max-width: {}px; }}\n",
                                     2 * o.input_size + 10))
       << "<h1>Minimal images of " << html_escape(inspected.meta.arch) << " ("
       << html_escape(inspected.source)
       << ")</h1>\n<p>Left: the image as the network sees it; right: its minimal image. "
          "Segments ("
       << (inputs.object_names.empty() ? "SLIC superpixels" : "annotated object regions")
       << ") are removed greedily, each time the one whose removal lowers the correct class's "
          "probability least, while the prediction stays correct; removed pixels are the "
          "dataset's mean colour.</p>\n";
  std::map<int64_t, int64_t> minimal_per_scene;
  std::map<int64_t, std::map<int, int64_t>> keeps;  // scene -> class -> minimal images keeping it
  int64_t images = 0, correct = 0, skipped = 0, forwards = 0;
  double kept_sum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& input : inputs.images) {
    if (max_images && static_cast<size_t>(images) >= max_images) break;
    cv::Mat rgb;
    Segments segments;
    try {
      rgb = data::decode_rgb(input.file, max_pixels);
      if (!input.annotation.empty()) {
        segments = segments_from_annotation(data::decode_label_png(input.annotation, max_pixels));
      } else {
        segments = superpixel_segments(rgb, superpixel);
      }
    } catch (const DataError& e) {
      log::warn("skipped {}: {}", input.file.string(), e.what());
      ++skipped;
      continue;
    }
    if (segments.ids.size() != rgb.size()) {
      log::warn("skipped {}: annotation {}x{} for an image of {}x{}", input.file.string(),
                segments.ids.cols, segments.ids.rows, rgb.cols, rgb.rows);
      ++skipped;
      continue;
    }
    ++images;
    // Without a label, the target is the network's own answer on the whole image.
    const MinimalResult r =
        minimal_image(inspected.model, inspected.device, rgb, segments, input.label, o);
    const int64_t target = r.label;
    forwards += r.forwards;
    std::vector<std::string> kept_classes, all_classes;
    std::set<int> kept_set;
    int kept_segments = 0;
    for (int s = 0; s < segments.count(); ++s) {
      const int c = segments.classes[static_cast<size_t>(s)];
      const bool kept = r.kept[static_cast<size_t>(s)];
      kept_segments += kept;
      all_classes.push_back(fmt::format("{}:{}", c, kept ? 1 : 0));
      if (kept && c > 0) kept_set.insert(c);
    }
    for (int c : kept_set)
      kept_classes.push_back(class_name_of(names, c));
    if (r.correct) {
      ++correct;
      kept_sum += r.kept_fraction;
      ++minimal_per_scene[target];
      for (int c : kept_set)
        ++keeps[target][c];
    }
    csv << csv_field(input.name) << ',' << input.label << ',' << target << ','
        << (r.correct ? 1 : 0) << ',' << segments.count() << ',' << kept_segments << ','
        << fmt::format("{:.4f}", r.kept_fraction) << ','
        << fmt::format("{:.6f}", r.start_probability) << ','
        << fmt::format("{:.6f}", r.final_probability) << ','
        << csv_field(fmt::format("{}", fmt::join(kept_classes, ";"))) << ','
        << csv_field(fmt::format("{}", fmt::join(all_classes, " "))) << '\n';
    if (r.correct && images <= shown) {
      cv::Mat pair, bgr;
      cv::hconcat(r.seen, r.minimal, pair);
      cv::cvtColor(pair, bgr, cv::COLOR_RGB2BGR);
      const std::string file =
          "images/" + map_file_name(input.name, target, "minimal", "png").filename().string();
      if (!cv::imwrite((out / file).string(), bgr))
        throw IoError(fmt::format("cannot write {}", (out / file).string()));
      html << "<figure><img src=\"" << html_escape(file) << "\" width=\"" << pair.cols
           << "\" height=\"" << pair.rows << "\" alt=\"" << html_escape(input.name)
           << "\"><figcaption>" << html_escape(fs::path(input.name).filename().string()) << ": "
           << html_escape(scene_name(target)) << ", kept "
           << fmt::format("{:.0f}", 100 * r.kept_fraction) << " %"
           << html_escape(kept_caption(kept_classes, r.kept_fraction))
           << "</figcaption></figure>\n";
    }
    if (images % 20 == 0) log::info("{} images, {} minimal", images, correct);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::ostringstream per_scene;
  per_scene << "scene,object,minimal_images,keeping,share\n";
  JsonWriter json;
  json.begin_object();
  json.value("images", images);
  json.value("skipped", skipped);
  json.value("correct", correct);
  json.value("mean_kept_fraction", correct ? kept_sum / static_cast<double>(correct) : 0.0);
  json.value("forwards", forwards);
  json.value("seconds", seconds);
  json.value("fill", "the dataset mean colour (the checkpoint's normalisation mean)");
  json.begin_object("scenes");
  html << "<h2>Objects kept, per scene</h2>\n";
  for (const auto& [scene, n] : minimal_per_scene) {
    std::vector<std::pair<int, int64_t>> ranked(keeps[scene].begin(), keeps[scene].end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    json.begin_object(scene_name(scene));
    json.value("minimal_images", n);
    html << "<p><b>" << html_escape(scene_name(scene)) << "</b> (" << n << "): ";
    for (size_t k = 0; k < ranked.size(); ++k) {
      const auto& [c, m] = ranked[k];
      const double share = static_cast<double>(m) / static_cast<double>(n);
      per_scene << csv_field(scene_name(scene)) << ',' << csv_field(class_name_of(names, c)) << ','
                << n << ',' << m << ',' << fmt::format("{:.4f}", share) << '\n';
      json.value(class_name_of(names, c), share);
      if (k < 8)
        html << (k ? ", " : "") << html_escape(class_name_of(names, c)) << ' '
             << fmt::format("{:.0f}", 100 * share) << " %";
    }
    html << "</p>\n";
    json.end_object();
  }
  json.end_object();
  json.end_object();
  html << "</body></html>\n";
  write_file_atomic(out / "minimal.csv", csv.str());
  write_file_atomic(out / "per_scene.csv", per_scene.str());
  write_file_atomic(out / "summary.json", json.str());
  write_file_atomic(out / "index.html", html.str());
  fmt::print(
      "images {} ({} correctly classified, skipped {}), mean kept fraction {:.3f}, {:.1f} "
      "images/s\nreport {}\n",
      images, correct, skipped, correct ? kept_sum / static_cast<double>(correct) : 0.0,
      seconds > 0 ? static_cast<double>(images) / seconds : 0.0, (out / "index.html").string());
  return 0;
}

}  // namespace scenery::inspect
