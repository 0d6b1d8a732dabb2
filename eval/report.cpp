#include "eval/report.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/csv_text.h"
#include "core/error.h"
#include "core/json_writer.h"

namespace scenery::eval {
namespace fs = std::filesystem;

namespace {

std::string class_name(const std::vector<std::string>& names, int64_t c) {
  return c < static_cast<int64_t>(names.size()) ? names[c] : fmt::format("class_{}", c);
}

void write_context(JsonWriter& j, const EvalContext& c) {
  j.begin_object("protocol");
  j.value("arch", c.arch).value("checkpoint", c.checkpoint);
  j.value("checkpoint_sha256", c.checkpoint_sha256);
  j.value("dataset", c.dataset).value("root", c.root).value("split", c.split);
  j.value("crop", c.crop);
  if (c.crop != "whole image") j.value("resize", c.resize).value("crop_size", c.crop_size);
  j.value("mean", c.mean).value("std", c.std);
  if (!c.scales.empty()) j.value("scales", c.scales).value("flip", c.flip);
  j.value("branches", c.branches);
  if (!c.semantic.empty()) j.value("semantic", c.semantic);
  j.end_object();
}

}  // namespace

cv::Mat confusion_picture(const ClassificationMeter& meter,
                          const std::vector<std::string>& class_names) {
  const int n = static_cast<int>(meter.num_classes());
  const int cell = std::clamp(900 / std::max(n, 1), 1, 40);
  const bool labelled = n <= 60;
  const int left = labelled ? 220 : 10, top = 40, bottom = 30;
  cv::Mat heat(n, n, CV_8UC1);
  for (int r = 0; r < n; ++r) {
    const int64_t total = meter.class_count(r);
    for (int c = 0; c < n; ++c) {
      const double frac = total ? static_cast<double>(meter.confusion_at(r, c)) / total : 0.0;
      heat.at<uint8_t>(r, c) = static_cast<uint8_t>(std::lround(255 * frac));
    }
  }
  cv::Mat colour;
  cv::applyColorMap(heat, colour, cv::COLORMAP_VIRIDIS);
  cv::resize(colour, colour, cv::Size(n * cell, n * cell), 0, 0, cv::INTER_NEAREST);
  const int width = std::max(left + n * cell + 10, 640);  // room for the title and footer
  cv::Mat canvas(top + n * cell + bottom, width, CV_8UC3, cv::Scalar(255, 255, 255));
  colour.copyTo(canvas(cv::Rect(left, top, n * cell, n * cell)));
  cv::putText(canvas, "confusion: rows = truth, columns = prediction (row-normalised, 0..1)",
              cv::Point(10, 25), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  if (labelled) {
    const double scale = std::min(0.45, cell / 28.0);
    for (int r = 0; r < n; ++r) {
      std::string name = fmt::format("{} {}", r, class_name(class_names, r));
      if (name.size() > 30) name = name.substr(0, 29) + "~";
      cv::putText(canvas, name, cv::Point(5, top + r * cell + cell * 3 / 4),
                  cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
  }
  cv::putText(canvas,
              fmt::format("{} classes, {} images, top-1 {:.3f}", n, meter.count(),
                          meter.count() ? meter.topk(1) : 0.0),
              cv::Point(left, top + n * cell + 20), cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return canvas;
}

void write_confusion_png(const fs::path& file, const ClassificationMeter& meter,
                         const std::vector<std::string>& class_names) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", confusion_picture(meter, class_names), png))
    throw IoError("cannot encode the confusion matrix PNG");
  write_file_atomic(file, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

void write_scene_report(const fs::path& dir, const SceneEvalResult& result,
                        const std::vector<std::string>& class_names, const EvalContext& context) {
  ensure_writable_directory(dir);
  JsonWriter j;
  j.begin_object();
  j.value("task", "scene recognition");
  j.begin_object("counts").value("images", result.images).value("skipped", result.skipped);
  j.end_object();
  if (result.meter) {
    const auto& m = *result.meter;
    j.begin_object("metrics");
    for (int64_t k : m.ks())
      j.value(fmt::format("top{}", k), m.topk(k));
    j.value("mca", m.mean_class_accuracy(McaConvention::kPresentClasses));
    j.value("mca_convention", mca_convention_name(McaConvention::kPresentClasses));
    j.value("mca_all_classes", m.mean_class_accuracy(McaConvention::kAllClasses));
    j.end_object();
  }
  write_context(j, context);
  j.end_object();
  write_file_atomic(dir / "results.json", j.str());
  if (!result.meter) return;

  const auto& m = *result.meter;
  std::string per_class = "class,name,images,top1_accuracy\n";
  for (int64_t c = 0; c < m.num_classes(); ++c) {
    const double acc = m.class_accuracy(c);
    per_class += fmt::format("{},{},{},{}\n", c, csv_field(class_name(class_names, c)),
                             m.class_count(c), std::isnan(acc) ? "" : fmt::format("{}", acc));
  }
  write_file_atomic(dir / "per_class.csv", per_class);

  std::string confusion = "truth\\prediction";
  for (int64_t c = 0; c < m.num_classes(); ++c)
    confusion += "," + csv_field(class_name(class_names, c));
  confusion += "\n";
  for (int64_t r = 0; r < m.num_classes(); ++r) {
    confusion += csv_field(class_name(class_names, r));
    for (int64_t c = 0; c < m.num_classes(); ++c)
      confusion += fmt::format(",{}", m.confusion_at(r, c));
    confusion += "\n";
  }
  write_file_atomic(dir / "confusion.csv", confusion);
  write_confusion_png(dir / "confusion.png", m, class_names);
}

void write_parsing_report(const fs::path& dir, const ParsingEvalResult& result,
                          const std::vector<std::string>& class_names, const EvalContext& context) {
  ensure_writable_directory(dir);
  JsonWriter j;
  j.begin_object();
  j.value("task", "scene parsing");
  j.begin_object("counts").value("images", result.images);
  if (result.meter) j.value("labelled_pixels", result.meter->labelled_pixels());
  j.end_object();
  if (result.meter) {
    const auto& m = *result.meter;
    j.begin_object("metrics");
    j.value("pixel_accuracy", m.pixel_accuracy()).value("mean_iou", m.mean_iou());
    j.value("score", m.challenge_score());
    j.value("classes_present", m.classes_present()).value("mean_iou_present", m.mean_iou_present());
    j.value("per_class_iou", m.per_class_iou());
    j.end_object();
  }
  write_context(j, context);
  j.end_object();
  write_file_atomic(dir / "results.json", j.str());
  if (!result.meter) return;

  const auto& m = *result.meter;
  std::string per_class = "class,name,iou,intersection,union\n";
  for (int c = 1; c <= m.num_classes(); ++c) {
    per_class += fmt::format("{},{},{},{},{}\n", c, csv_field(class_name(class_names, c - 1)),
                             m.iou(c), m.intersection(c), m.union_(c));
  }
  write_file_atomic(dir / "per_class.csv", per_class);
}

}  // namespace scenery::eval
