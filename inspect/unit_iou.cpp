#include "inspect/unit_iou.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <tbb/parallel_for.h>

#include <algorithm>

#include "core/error.h"

namespace scenery::inspect {

namespace {

// Source cells and weights of each output pixel along one axis, as PyTorch's
// upsample_bilinear2d computes them with align_corners = false (half-pixel
// centres, scale = in / out in float, sources below 0 clamped to 0).
struct Axis {
  std::vector<int64_t> index, step;  // first cell; 1 when a second one follows, else 0
  std::vector<float> w0, w1;
};

Axis bilinear_axis(int64_t in, int64_t out) {
  Axis a;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t i = 0; i < out; ++i) {
    float src = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    const auto i0 = static_cast<int64_t>(src);
    const float l1 = src - static_cast<float>(i0);
    a.index.push_back(i0);
    a.step.push_back(i0 < in - 1 ? 1 : 0);
    a.w0.push_back(1.0f - l1);
    a.w1.push_back(l1);
  }
  return a;
}

}  // namespace

UnitIoU::UnitIoU(int64_t units, int64_t classes)
    : units_(units),
      classes_(classes),
      intersection_(static_cast<size_t>(units * (classes + 1)), 0),
      unit_area_(static_cast<size_t>(units), 0),
      class_area_(static_cast<size_t>(classes + 1), 0) {}

void UnitIoU::add(const torch::Tensor& maps, const std::vector<float>& thresholds,
                  const torch::Tensor& labels) {
  if (maps.dim() != 3 || maps.size(0) != units_ ||
      static_cast<int64_t>(thresholds.size()) != units_ || labels.dim() != 2) {
    throw EvalError(fmt::format(
        "unit IoU: expected {} maps (units x h x w), {} thresholds and an H x W annotation; got "
        "{}, {} and {}",
        units_, units_, fmt::join(maps.sizes(), "x"), thresholds.size(),
        fmt::join(labels.sizes(), "x")));
  }
  torch::NoGradGuard no_grad;
  const auto label = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t max_label = label.max().item<int64_t>();
  if (max_label > classes_ || label.min().item<int64_t>() < 0) {
    throw EvalError(
        fmt::format("unit IoU: annotation value {} outside 0..{}", max_label, classes_));
  }
  const int64_t H = label.size(0), W = label.size(1);
  const int64_t* lab = label.data_ptr<int64_t>();
  for (int64_t i = 0; i < H * W; ++i)
    ++class_area_[static_cast<size_t>(lab[i])];
  class_area_[0] = 0;

  const auto cpu_maps = maps.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = cpu_maps.size(1), w = cpu_maps.size(2);
  const Axis rows = bilinear_axis(h, H), cols = bilinear_axis(w, W);
  const float* all = cpu_maps.data_ptr<float>();
  tbb::parallel_for(int64_t{0}, units_, [&](int64_t u) {
    const float* m = all + u * h * w;
    const float t = thresholds[static_cast<size_t>(u)];
    // The cells above T: a bilinear value lies between the four cells around
    // it, so only pixels next to one of them can be above T (a unit never above
    // T on its grid is skipped whole; most are, at q = 0.995).
    int64_t r0 = h, r1 = -1, c0 = w, c1 = -1;
    for (int64_t r = 0; r < h; ++r)
      for (int64_t c = 0; c < w; ++c)
        if (m[r * w + c] > t) {
          r0 = std::min(r0, r);
          r1 = std::max(r1, r);
          c0 = std::min(c0, c);
          c1 = std::max(c1, c);
        }
    if (r1 < 0) return;
    int64_t* inter = intersection_.data() + u * (classes_ + 1);
    int64_t area = 0;
    for (int64_t y = 0; y < H; ++y) {
      const int64_t y0 = rows.index[static_cast<size_t>(y)];
      const int64_t y1 = y0 + rows.step[static_cast<size_t>(y)];
      if (y1 < r0 || y0 > r1) continue;
      const float wy0 = rows.w0[static_cast<size_t>(y)], wy1 = rows.w1[static_cast<size_t>(y)];
      const float* top = m + y0 * w;
      const float* bottom = m + y1 * w;
      const int64_t* lrow = lab + y * W;
      for (int64_t x = 0; x < W; ++x) {
        const int64_t x0 = cols.index[static_cast<size_t>(x)];
        const int64_t x1 = x0 + cols.step[static_cast<size_t>(x)];
        if (x1 < c0 || x0 > c1 || lrow[x] == 0) continue;
        const float wx0 = cols.w0[static_cast<size_t>(x)], wx1 = cols.w1[static_cast<size_t>(x)];
        // PyTorch's order: rows of the inner (width) interpolation, then height.
        const float value =
            (top[x0] * wx0 + top[x1] * wx1) * wy0 + (bottom[x0] * wx0 + bottom[x1] * wx1) * wy1;
        if (value > t) {
          ++area;
          ++inter[lrow[x]];
        }
      }
    }
    unit_area_[static_cast<size_t>(u)] += area;
  });
}

int64_t UnitIoU::intersection(int64_t unit, int64_t cls) const {
  return intersection_[static_cast<size_t>(unit * (classes_ + 1) + cls)];
}

double UnitIoU::iou(int64_t unit, int64_t cls) const {
  const int64_t inter = intersection(unit, cls);
  const int64_t uni = unit_area(unit) + class_area(cls) - inter;
  return uni > 0 ? static_cast<double>(inter) / static_cast<double>(uni) : 0.0;
}

std::vector<UnitIoU::Match> UnitIoU::best(int64_t unit, int n) const {
  std::vector<Match> all;
  for (int64_t k = 1; k <= classes_; ++k)
    all.push_back({k, iou(unit, k)});
  std::stable_sort(all.begin(), all.end(),
                   [](const Match& a, const Match& b) { return a.iou > b.iou; });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(std::max(n, 0))));
  return all;
}

}  // namespace scenery::inspect
