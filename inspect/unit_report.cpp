#include "inspect/unit_report.h"

#include <fmt/core.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/csv_text.h"
#include "core/error.h"
#include "core/html.h"
#include "core/json_writer.h"
#include "data/ade20k_names.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

namespace {

// "layer4.1" -> "layer4.1"; anything outside [A-Za-z0-9._-] becomes '_'.
std::string folder_name(const std::string& layer) {
  std::string out = layer;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return out;
}

std::string strip_file(const std::string& layer, int64_t unit) {
  return fmt::format("units/{}/unit_{:04d}.jpg", folder_name(layer), unit);
}

const char* kStyle = R"(
body { color: #222; max-width: 1400px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
p.about { max-width: 60em; line-height: 1.4; }
table.counts { border-collapse: collapse; margin: 0.5em 0 1em; }
table.counts td, table.counts th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
div.unit { margin: 0.6em 0; }
div.unit .head { font-size: 0.95em; margin-bottom: 2px; }
div.unit .head b { font-size: 1.05em; }
div.unit .other { color: #666; }
div.unit.weak .head { color: #888; }
span.tag { background: #2a7; color: #fff; border-radius: 3px; padding: 0 5px; font-size: 0.8em; }
img.strip { display: block; max-width: 100%; height: auto; image-rendering: auto; }
nav a { margin-right: 1em; }
)";

// A layer's detectors, and how many there are of each class (most first).
struct DetectorTally {
  int64_t detectors = 0;
  std::vector<std::pair<int64_t, int64_t>> per_class;
};

DetectorTally tally_detectors(const std::vector<UnitRow>& rows) {
  std::map<int64_t, int64_t> counts;
  DetectorTally t;
  for (const auto& row : rows) {
    if (!row.detector) continue;
    ++t.detectors;
    ++counts[row.best.front().cls];
  }
  t.per_class.assign(counts.begin(), counts.end());
  std::stable_sort(t.per_class.begin(), t.per_class.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return t;
}

}  // namespace

std::string class_name_of(const UnitReportInfo& info, int64_t cls) {
  if (cls < 1 || cls > static_cast<int64_t>(info.class_names.size()))
    return fmt::format("class_{}", cls);
  return data::ade20k_display_name(info.class_names[static_cast<size_t>(cls - 1)]);
}

std::vector<UnitRow> rank_units(const LayerUnits& layer, double iou_threshold) {
  std::vector<UnitRow> rows;
  for (int64_t u = 0; u < layer.units; ++u) {
    UnitRow row;
    row.unit = u;
    const auto& top = layer.top[static_cast<size_t>(u)];
    row.top_activation = top.empty() ? 0.f : top.front().value;
    if (layer.iou) {
      row.best = layer.iou->best(u, 3);
      row.detector = !row.best.empty() && row.best.front().iou >= iou_threshold;
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const UnitRow& a, const UnitRow& b) {
    const double ia = a.best.empty() ? -1 : a.best.front().iou;
    const double ib = b.best.empty() ? -1 : b.best.front().iou;
    if (ia != ib) return ia > ib;
    return a.top_activation > b.top_activation;
  });
  return rows;
}

namespace {

// units.csv: one row per unit, layer by layer, in rank order.
std::string unit_report_csv(const UnitScan& scan, const std::vector<std::vector<UnitRow>>& ranked,
                            const UnitReportInfo& info) {
  std::ostringstream csv;
  csv << "layer,unit,label,class,iou,label2,class2,iou2,label3,class3,iou3,threshold,"
         "top_activation,detector\n";
  for (size_t l = 0; l < scan.layers.size(); ++l) {
    const auto& layer = scan.layers[l];
    for (const auto& row : ranked[l]) {
      csv << csv_field(layer.layer) << ',' << row.unit;
      for (size_t k = 0; k < 3; ++k) {
        if (k < row.best.size())
          csv << ',' << csv_field(class_name_of(info, row.best[k].cls)) << ',' << row.best[k].cls
              << ',' << fmt::format("{:.6f}", row.best[k].iou);
        else
          csv << ",,,";
      }
      csv << ','
          << (layer.thresholds.empty()
                  ? std::string()
                  : fmt::format("{:.9g}", layer.thresholds[static_cast<size_t>(row.unit)]))
          << ',' << fmt::format("{:.9g}", row.top_activation) << ','
          << (layer.iou ? (row.detector ? "1" : "0") : "") << '\n';
    }
  }
  return csv.str();
}

// summary.json: the scan's totals and each layer's detectors per class.
std::string unit_report_summary(const UnitScan& scan, const std::vector<DetectorTally>& tallies,
                                const UnitReportInfo& info) {
  JsonWriter json;
  json.begin_object();
  json.value("images", scan.images);
  json.value("skipped", static_cast<int64_t>(scan.skipped.size()));
  json.value("annotated", scan.annotated);
  json.value("iou_threshold", info.iou_threshold);
  json.value("activations_cached", scan.cached);
  json.value("pass1_seconds", scan.pass1_seconds);
  json.value("pass2_seconds", scan.pass2_seconds);
  std::set<int64_t> all_classes;
  json.begin_array("layers");
  for (size_t l = 0; l < scan.layers.size(); ++l) {
    const auto& layer = scan.layers[l];
    const DetectorTally& tally = tallies[l];
    for (const auto& [cls, n] : tally.per_class)
      all_classes.insert(cls);
    json.begin_object();
    json.value("layer", layer.layer);
    json.value("units", layer.units);
    json.value("map_height", layer.height);
    json.value("map_width", layer.width);
    if (layer.iou) {
      json.value("detectors", tally.detectors);
      json.value("distinct_classes", static_cast<int64_t>(tally.per_class.size()));
      json.begin_object("detectors_per_class");
      for (const auto& [cls, n] : tally.per_class)
        json.value(class_name_of(info, cls), n);
      json.end_object();
    }
    json.end_object();
  }
  json.end_array();
  if (scan.annotated) json.value("distinct_classes", static_cast<int64_t>(all_classes.size()));
  json.end_object();
  return json.str();
}

// What index.html is written from, besides the layer at hand.
struct UnitReportPage {
  const fs::path& out;
  const std::vector<UnitImage>& images;
  const UnitReportInfo& info;
  std::ostringstream html;
};

// One unit of the report: writes its strip (when drawn) as a JPEG and adds its
// entry (best classes, activation, the strip) to the page.
void write_unit_entry(UnitReportPage& page, const LayerUnits& layer, const UnitRow& row) {
  static const std::vector<int> kJpeg{cv::IMWRITE_JPEG_QUALITY, 90};
  std::ostringstream& html = page.html;
  const auto& top = layer.top[static_cast<size_t>(row.unit)];
  static const cv::Mat kNone;
  const auto su = static_cast<size_t>(row.unit);
  const cv::Mat& strip = su < layer.strips.size() ? layer.strips[su] : kNone;
  const std::string file = strip_file(layer.layer, row.unit);
  if (!strip.empty()) {
    cv::Mat bgr;
    cv::cvtColor(strip, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imwrite((page.out / file).string(), bgr, kJpeg))
      throw IoError(fmt::format("cannot write {}", (page.out / file).string()));
  }
  html << "<div class=\"unit" << (layer.iou && !row.detector ? " weak" : "")
       << "\"><div class=\"head\">unit " << row.unit;
  if (!row.best.empty()) {
    html << " &mdash; <b>" << html_escape(class_name_of(page.info, row.best[0].cls)) << "</b> IoU "
         << fmt::format("{:.3f}", row.best[0].iou);
    if (row.detector) html << " <span class=\"tag\">detector</span>";
    html << " <span class=\"other\">";
    for (size_t k = 1; k < row.best.size(); ++k)
      html << (k > 1 ? ", " : "then ") << html_escape(class_name_of(page.info, row.best[k].cls))
           << ' ' << fmt::format("{:.3f}", row.best[k].iou);
    html << "</span>";
  }
  html << " <span class=\"other\">max activation " << fmt::format("{:.3g}", row.top_activation)
       << "</span></div>";
  if (!strip.empty()) {
    std::string alt;
    for (size_t k = 0; k < top.size() && k < 3; ++k)
      alt += (k ? ", " : "") + page.images[top[k].image].name;
    html << "<img class=\"strip\" loading=\"lazy\" src=\"" << html_escape(file) << "\" width=\""
         << strip.cols << "\" height=\"" << strip.rows << "\" alt=\"top images of unit " << row.unit
         << ": " << html_escape(alt) << "\" title=\"" << html_escape(alt) << "\">";
  }
  html << "</div>\n";
}

// One layer of the report: its heading, its detector counts, then its units in
// rank order (their strips written into units/<layer>/).
void write_layer_section(UnitReportPage& page, const LayerUnits& layer,
                         const std::vector<UnitRow>& ranked, const DetectorTally& tally) {
  fs::create_directories(page.out / "units" / folder_name(layer.layer));
  std::ostringstream& html = page.html;
  html << "<h2 id=\"" << html_escape(folder_name(layer.layer)) << "\">" << html_escape(layer.layer)
       << "</h2>\n<p>" << layer.units << " units, maps " << layer.height << "&times;"
       << layer.width;
  if (layer.iou) {
    html << "; <b>" << tally.detectors << " detectors</b> (IoU &ge; "
         << fmt::format("{:.2f}", page.info.iou_threshold) << ") of " << tally.per_class.size()
         << " distinct classes.</p>\n";
    if (!tally.per_class.empty()) {
      html << "<table class=\"counts\"><tr><th>class</th><th>detectors</th></tr>\n";
      for (const auto& [cls, n] : tally.per_class)
        html << "<tr><td>" << html_escape(class_name_of(page.info, cls)) << "</td><td>" << n
             << "</td></tr>\n";
      html << "</table>\n";
    }
  } else {
    html << "; no annotations: units ordered by their highest activation.</p>\n";
  }
  for (const auto& row : ranked)
    write_unit_entry(page, layer, row);
}

}  // namespace

std::string write_unit_report(const fs::path& out, const UnitScan& scan,
                              const std::vector<UnitImage>& images, const UnitReportInfo& info) {
  fs::create_directories(out);
  std::vector<std::vector<UnitRow>> ranked;
  std::vector<DetectorTally> tallies;
  for (const auto& layer : scan.layers) {
    ranked.push_back(rank_units(layer, info.iou_threshold));
    tallies.push_back(tally_detectors(ranked.back()));
  }
  write_file_atomic(out / "units.csv", unit_report_csv(scan, ranked, info));
  const std::string summary = unit_report_summary(scan, tallies, info);
  write_file_atomic(out / "summary.json", summary);

  // Strips and index.html
  UnitReportPage page{out, images, info, {}};
  std::ostringstream& html = page.html;
  html << html_page_head(info.title, kStyle);
  html << "<h1>" << html_escape(info.title) << "</h1>\n<p class=\"about\">"
       << html_escape(info.description) << "</p>\n<nav>";
  for (const auto& layer : scan.layers)
    html << "<a href=\"#" << html_escape(folder_name(layer.layer)) << "\">"
         << html_escape(layer.layer) << "</a>";
  html << "</nav>\n";
  for (size_t l = 0; l < scan.layers.size(); ++l)
    write_layer_section(page, scan.layers[l], ranked[l], tallies[l]);
  html << "</body></html>\n";
  write_file_atomic(out / "index.html", html.str());
  return summary;
}

}  // namespace scenery::inspect
