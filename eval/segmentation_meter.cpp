#include "eval/segmentation_meter.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace scenery::eval {

SegmentationMeter::SegmentationMeter(int num_classes) : num_classes_(num_classes) {
  if (num_classes < 1 || num_classes > 255) {
    throw EvalError(fmt::format("parsing labels are bytes: 1..255 classes, got {}", num_classes));
  }
  reset();
}

void SegmentationMeter::reset() {
  hist_.assign(256 * 256, 0);
  partial_.assign(4 * 65536, 0);
  pending_ = 0;
}

void SegmentationMeter::flush() const {
  if (pending_ == 0) return;
  for (size_t b = 0; b < 65536; ++b) {
    hist_[b] += int64_t{partial_[b]} + partial_[b + 65536] + partial_[b + 2 * 65536] +
                partial_[b + 3 * 65536];
  }
  std::fill(partial_.begin(), partial_.end(), 0u);
  pending_ = 0;
}

void SegmentationMeter::add(const uint8_t* prediction, const uint8_t* ground_truth, size_t pixels) {
  // Masks are made of long runs of one value, so consecutive increments hit the
  // same counter; four interleaved 32-bit partial histograms break that
  // dependency chain (several times faster than one 64-bit histogram). They are
  // folded into the 64-bit totals long before a partial could overflow.
  constexpr size_t kFlushAt = size_t{1} << 31;
  uint32_t* h0 = partial_.data();
  uint32_t* h1 = h0 + 65536;
  uint32_t* h2 = h1 + 65536;
  uint32_t* h3 = h2 + 65536;
  size_t i = 0;
  while (i < pixels) {
    if (pending_ >= kFlushAt) flush();
    const size_t end = std::min(pixels, i + (kFlushAt - pending_));
    pending_ += end - i;
    for (; i + 4 <= end; i += 4) {
      ++h0[(ground_truth[i] << 8) | prediction[i]];
      ++h1[(ground_truth[i + 1] << 8) | prediction[i + 1]];
      ++h2[(ground_truth[i + 2] << 8) | prediction[i + 2]];
      ++h3[(ground_truth[i + 3] << 8) | prediction[i + 3]];
    }
    for (; i < end; ++i)
      ++h0[(ground_truth[i] << 8) | prediction[i]];
  }
}

void SegmentationMeter::add(const torch::Tensor& prediction, const torch::Tensor& ground_truth) {
  if (prediction.sizes() != ground_truth.sizes()) {
    throw EvalError(fmt::format("prediction is {} but ground truth is {}",
                                fmt::join(prediction.sizes(), "x"),
                                fmt::join(ground_truth.sizes(), "x")));
  }
  auto to_bytes = [](const torch::Tensor& t, const char* what) {
    if (t.scalar_type() == torch::kByte) return t.cpu().contiguous();
    if (t.numel() > 0) {
      const auto lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
      if (lo < 0 || hi > 255) {
        throw EvalError(fmt::format("{} labels must be 0..255, got values {}..{}", what, lo, hi));
      }
    }
    return t.to(torch::kCPU, torch::kByte).contiguous();
  };
  const auto p = to_bytes(prediction, "predicted");
  const auto g = to_bytes(ground_truth, "ground-truth");
  add(p.data_ptr<uint8_t>(), g.data_ptr<uint8_t>(), static_cast<size_t>(p.numel()));
}

void SegmentationMeter::merge(const SegmentationMeter& other) {
  if (other.num_classes_ != num_classes_) {
    throw EvalError(fmt::format("cannot merge parsing meters of {} and {} classes", num_classes_,
                                other.num_classes_));
  }
  other.flush();
  for (size_t i = 0; i < hist_.size(); ++i)
    hist_[i] += other.hist_[i];
}

torch::Tensor SegmentationMeter::state() const {
  flush();
  return torch::tensor(hist_, torch::kLong);
}

void SegmentationMeter::merge_state(const torch::Tensor& state_in) {
  const auto st = state_in.to(torch::kCPU, torch::kLong).contiguous();
  if (st.numel() != static_cast<int64_t>(hist_.size())) {
    throw EvalError(
        fmt::format("parsing meter state has {} counters, expected {}", st.numel(), hist_.size()));
  }
  const int64_t* p = st.data_ptr<int64_t>();
  flush();
  for (size_t i = 0; i < hist_.size(); ++i)
    hist_[i] += p[i];
}

int64_t SegmentationMeter::joint(int truth, int predicted) const {
  flush();
  return hist_[truth * 256 + predicted];
}

int64_t SegmentationMeter::labelled_pixels() const {
  flush();
  int64_t n = 0;
  for (int g = 1; g < 256; ++g) {
    for (int p = 0; p < 256; ++p)
      n += hist_[g * 256 + p];
  }
  return n;
}

int64_t SegmentationMeter::correct_pixels() const {
  flush();
  int64_t n = 0;
  for (int g = 1; g < 256; ++g)
    n += hist_[g * 256 + g];
  return n;
}

double SegmentationMeter::pixel_accuracy() const {
  const int64_t labelled = labelled_pixels();
  return labelled == 0 ? 0.0 : static_cast<double>(correct_pixels()) / labelled;
}

int64_t SegmentationMeter::intersection(int c) const {
  flush();
  return hist_[c * 256 + c];
}

int64_t SegmentationMeter::union_(int c) const {
  flush();
  int64_t truth = 0, predicted = 0;
  for (int p = 0; p < 256; ++p)
    truth += hist_[c * 256 + p];
  for (int g = 1; g < 256; ++g)
    predicted += hist_[g * 256 + c];  // gt 0 pixels are excluded
  return truth + predicted - intersection(c);
}

double SegmentationMeter::iou(int c) const {
  if (c < 1 || c > num_classes_) {
    throw EvalError(fmt::format("IoU class {} outside 1..{}", c, num_classes_));
  }
  const int64_t u = union_(c);
  return u == 0 ? 0.0 : static_cast<double>(intersection(c)) / u;
}

std::vector<double> SegmentationMeter::per_class_iou() const {
  std::vector<double> out;
  out.reserve(num_classes_);
  for (int c = 1; c <= num_classes_; ++c)
    out.push_back(iou(c));
  return out;
}

double SegmentationMeter::mean_iou() const {
  double sum = 0;
  for (double v : per_class_iou())
    sum += v;
  return sum / num_classes_;
}

int SegmentationMeter::classes_present() const {
  int n = 0;
  for (int c = 1; c <= num_classes_; ++c)
    n += has_truth(c);
  return n;
}

double SegmentationMeter::mean_iou_present() const {
  double sum = 0;
  int n = 0;
  for (int c = 1; c <= num_classes_; ++c) {
    if (!has_truth(c)) continue;
    sum += iou(c);
    ++n;
  }
  return n == 0 ? 0.0 : sum / n;
}

bool SegmentationMeter::has_truth(int c) const {
  flush();
  const int64_t* row = hist_.data() + static_cast<size_t>(c) * 256;
  return std::any_of(row, row + 256, [](int64_t n) { return n > 0; });
}

}  // namespace scenery::eval
