#include "data/dataset_check.h"

#include <fmt/core.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <numeric>

#include "core/error.h"
#include "core/progress.h"
#include "data/decode.h"
#include "data/sample_bytes.h"

namespace scenery::data {
namespace fs = std::filesystem;

namespace {

enum Status : uint8_t { kOk = 0, kMissing = 1, kCorrupt = 2 };

struct Problems {
  std::mutex mutex;
  std::vector<std::pair<size_t, std::string>> list;
  void add(size_t i, std::string message) {
    std::lock_guard<std::mutex> lock(mutex);
    list.emplace_back(i, std::move(message));
  }
};

// Checks one file; returns its status and records the problem.
using BytesDecoder = cv::Mat (*)(const std::vector<uint8_t>&, const std::string&, int64_t);

// File `f` of sample `s`: its own file, or its member of a shard.
Status check_file(size_t i, const Sample& s, SampleFile f, Problems& problems, BytesDecoder decode,
                  int64_t max_pixels, cv::Mat* out) {
  const fs::path& file = s.file(f);
  std::error_code ec;
  if (!fs::is_regular_file(s.shard.empty() ? file : s.shard, ec)) {
    problems.add(i, fmt::format("{}: missing", file.string()));
    return kMissing;
  }
  try {
    cv::Mat m = decode(read_sample_bytes(s, f, max_pixels), file.string(), max_pixels);
    if (out) *out = m;
    return kOk;
  } catch (const std::exception& e) {
    // The decoders' messages start with the file; it is named once.
    std::string reason = e.what();
    const std::string prefix = file.string() + ": ";
    if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
    problems.add(i, fmt::format("{}: corrupt ({})", file.string(), reason));
    return kCorrupt;
  }
}

}  // namespace

CheckReport check_catalog(const Catalog& catalog, const CheckOptions& options) {
  CheckReport report;
  report.samples = static_cast<int64_t>(catalog.size());
  report.class_counts.assign(static_cast<size_t>(std::max<int64_t>(catalog.num_classes(), 0)), 0);
  for (size_t i = 0; i < catalog.size(); ++i) {
    const int64_t label = catalog.label(i);
    if (label < 0) {
      ++report.unlabelled;
    } else {
      if (static_cast<size_t>(label) >= report.class_counts.size())
        report.class_counts.resize(label + 1, 0);
      ++report.class_counts[label];
    }
  }
  if (!options.decode) return report;

  const size_t n = catalog.size();
  std::vector<uint8_t> status(n, kOk);
  std::vector<int32_t> width(n, 0), height(n, 0);
  Problems problems;
  std::unique_ptr<Progress> progress;
  if (options.progress) {
    Progress::Options po;
    po.unit = "img";
    progress = std::make_unique<Progress>("check " + catalog.dataset() + " " + catalog.split(),
                                          static_cast<int64_t>(n), po);
  }
  const int64_t limit = options.max_image_pixels;
  tbb::parallel_for(size_t{0}, n, [&](size_t i) {
    const Sample s = catalog.at(i);
    cv::Mat image;
    uint8_t st = check_file(i, s, SampleFile::kImage, problems, decode_rgb_bytes, limit, &image);
    if (!image.empty()) width[i] = image.cols, height[i] = image.rows;
    if (!s.mask.empty()) {
      cv::Mat mask;
      const uint8_t m =
          check_file(i, s, SampleFile::kMask, problems, decode_label_png_bytes, limit, &mask);
      st = std::max<uint8_t>(st, m);
      if (m == kOk && !image.empty() && mask.size() != image.size()) {
        problems.add(i, fmt::format("{}: corrupt (mask is {}x{}, image {}x{})", s.mask.string(),
                                    mask.cols, mask.rows, image.cols, image.rows));
        st = std::max<uint8_t>(st, kCorrupt);
      }
    }
    for (const SampleFile f : {SampleFile::kSemanticClasses, SampleFile::kSemanticScores}) {
      if (!s.file(f).empty())
        st = std::max<uint8_t>(
            st, check_file(i, s, f, problems, decode_raw3_png_bytes, limit, nullptr));
    }
    status[i] = st;
    if (progress) progress->advance();
  });
  if (progress) progress->finish();

  for (size_t i = 0; i < n; ++i) {
    report.missing += status[i] == kMissing;
    report.corrupt += status[i] == kCorrupt;
    if (width[i] > 0) ++report.image_sizes[{width[i], height[i]}];
  }
  std::stable_sort(problems.list.begin(), problems.list.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < problems.list.size() && i < options.max_problems; ++i) {
    report.problems.push_back(problems.list[i].second);
  }
  return report;
}

std::string format_check_report(const Catalog& catalog, const CheckReport& r) {
  std::string out =
      fmt::format("dataset {} split {} at {}: {} samples, {} classes\n", catalog.dataset(),
                  catalog.split(), catalog.root().string(), r.samples, catalog.num_classes());
  out += "class histogram (label count name):\n";
  for (size_t c = 0; c < r.class_counts.size(); ++c) {
    const std::string name = c < catalog.class_names().size() ? catalog.class_names()[c] : "?";
    out += fmt::format("  {:>4} {:>8} {}\n", c, r.class_counts[c], name);
  }
  if (r.unlabelled > 0) out += fmt::format("  unlabelled {}\n", r.unlabelled);
  if (!r.class_counts.empty()) {
    const auto [lo, hi] = std::minmax_element(r.class_counts.begin(), r.class_counts.end());
    out += fmt::format("images per class: min {}, max {}, mean {:.1f}\n", *lo, *hi,
                       static_cast<double>(r.samples - r.unlabelled) / r.class_counts.size());
  }
  if (!r.image_sizes.empty()) {
    int64_t decoded = 0;
    double sum_w = 0, sum_h = 0;
    int min_w = INT32_MAX, max_w = 0, min_h = INT32_MAX, max_h = 0;
    std::vector<std::pair<int64_t, std::pair<int, int>>> common;
    for (const auto& [size, count] : r.image_sizes) {
      decoded += count;
      sum_w += static_cast<double>(size.first) * count;
      sum_h += static_cast<double>(size.second) * count;
      min_w = std::min(min_w, size.first), max_w = std::max(max_w, size.first);
      min_h = std::min(min_h, size.second), max_h = std::max(max_h, size.second);
      common.push_back({count, size});
    }
    std::sort(common.begin(), common.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    out += fmt::format(
        "image sizes ({} decoded): width {}..{} (mean {:.1f}), height {}..{} (mean {:.1f})\n",
        decoded, min_w, max_w, sum_w / decoded, min_h, max_h, sum_h / decoded);
    out += "most common sizes:";
    for (size_t i = 0; i < common.size() && i < 5; ++i) {
      out += fmt::format(" {}x{} ({})", common[i].second.first, common[i].second.second,
                         common[i].first);
    }
    out += "\n";
  }
  out += fmt::format("missing: {}, corrupt: {}\n", r.missing, r.corrupt);
  for (const auto& p : r.problems)
    out += "  " + p + "\n";
  if (static_cast<int64_t>(r.problems.size()) < r.missing + r.corrupt) {
    out += fmt::format("  ... (first {} problems shown)\n", r.problems.size());
  }
  out += r.ok() ? "OK\n" : "FAILED\n";
  return out;
}

}  // namespace scenery::data
