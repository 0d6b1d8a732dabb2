#include "eval/parsing_submission.h"

#include <fmt/core.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/zip_writer.h"

namespace scenery::eval {
namespace fs = std::filesystem;

fs::path write_parsing_png(const fs::path& dir, const std::string& stem,
                           const torch::Tensor& labels_in, int num_classes) {
  if (labels_in.dim() != 2) {
    throw EvalError(
        fmt::format("prediction for '{}' must be [H, W], got {} dims", stem, labels_in.dim()));
  }
  const auto labels = labels_in.detach().to(torch::kCPU, torch::kLong).contiguous();
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  if (lo < 1 || hi > num_classes) {
    throw EvalError(
        fmt::format("prediction for '{}' has values {}..{}; the submission format "
                    "needs 1..{}",
                    stem, lo, hi, num_classes));
  }
  const auto bytes = labels.to(torch::kByte).contiguous();
  const cv::Mat mat(static_cast<int>(bytes.size(0)), static_cast<int>(bytes.size(1)), CV_8UC1,
                    bytes.data_ptr<uint8_t>());
  std::vector<uchar> png;
  if (!cv::imencode(".png", mat, png)) {
    throw IoError(fmt::format("cannot encode the PNG for '{}'", stem));
  }
  ensure_writable_directory(dir);
  const fs::path target = dir / (stem + ".png");
  write_file_atomic(target,
                    std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  return target;
}

namespace {

std::vector<fs::path> list_pngs(const fs::path& dir, const char* what) {
  if (!fs::is_directory(dir)) {
    throw EvalError(fmt::format("{} folder '{}' does not exist", what, dir.string()));
  }
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".png") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

cv::Mat read_label_png(const fs::path& file, const char* what) {
  const cv::Mat m = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) throw EvalError(fmt::format("{} '{}' is not a readable PNG", what, file.string()));
  if (m.depth() != CV_8U || m.channels() != 1) {
    throw EvalError(
        fmt::format("{} '{}' must be an 8-bit single-channel PNG, got {}-bit with {} "
                    "channels",
                    what, file.string(), m.depth() == CV_16U ? 16 : 8, m.channels()));
  }
  return m;
}

}  // namespace

void zip_parsing_submission(const fs::path& dir, const fs::path& archive) {
  std::vector<std::pair<std::string, fs::path>> files;
  for (const auto& p : list_pngs(dir, "submission"))
    files.emplace_back(p.filename().string(), p);
  if (files.empty()) throw EvalError(fmt::format("no PNG in '{}' to zip", dir.string()));
  write_zip(archive, files);
}

SegmentationMeter score_parsing_folder(const fs::path& predictions, const fs::path& annotations,
                                       int num_classes) {
  const auto truth_files = list_pngs(annotations, "annotation");
  const auto predicted_files = list_pngs(predictions, "prediction");
  std::set<std::string> truth_names;
  for (const auto& p : truth_files)
    truth_names.insert(p.filename().string());
  for (const auto& p : predicted_files) {
    if (!truth_names.count(p.filename().string())) {
      throw EvalError(fmt::format("prediction '{}' has no annotation of that name in '{}'",
                                  p.string(), annotations.string()));
    }
  }
  for (const auto& t : truth_files) {
    if (!fs::exists(predictions / t.filename())) {
      throw EvalError(fmt::format("no prediction '{}' for annotation '{}'",
                                  (predictions / t.filename()).string(), t.string()));
    }
  }

  tbb::enumerable_thread_specific<SegmentationMeter> meters(
      [&] { return SegmentationMeter(num_classes); });
  tbb::parallel_for(size_t{0}, truth_files.size(), [&](size_t i) {
    const cv::Mat gt = read_label_png(truth_files[i], "annotation");
    const fs::path pred_path = predictions / truth_files[i].filename();
    const cv::Mat pred = read_label_png(pred_path, "prediction");
    if (pred.size() != gt.size()) {
      throw EvalError(fmt::format("prediction '{}' is {}x{} but its annotation is {}x{}",
                                  pred_path.string(), pred.cols, pred.rows, gt.cols, gt.rows));
    }
    double max_value = 0;
    cv::minMaxLoc(pred, nullptr, &max_value);
    if (max_value > num_classes) {
      throw EvalError(fmt::format("prediction '{}' contains label {}; valid labels are 1..{}",
                                  pred_path.string(), static_cast<int>(max_value), num_classes));
    }
    auto& meter = meters.local();
    for (int r = 0; r < gt.rows; ++r)
      meter.add(pred.ptr<uint8_t>(r), gt.ptr<uint8_t>(r), gt.cols);
  });
  SegmentationMeter total(num_classes);
  for (const auto& m : meters)
    total.merge(m);
  return total;
}

}  // namespace scenery::eval
