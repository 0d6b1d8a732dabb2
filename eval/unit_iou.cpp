#include "eval/unit_iou.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace scenery::eval {

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
  // Bilinear, half-pixel centres (align_corners = false), as Network Dissection.
  const auto resized = torch::nn::functional::interpolate(
                           maps.to(torch::kCPU, torch::kFloat32).unsqueeze(0),
                           torch::nn::functional::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{label.size(0), label.size(1)})
                               .mode(torch::kBilinear)
                               .align_corners(false))
                           .squeeze(0);
  const auto threshold = torch::tensor(thresholds).view({units_, 1, 1});
  const auto labelled = label > 0;
  const auto active = (resized > threshold) & labelled.unsqueeze(0);  // units x H x W
  // One bincount over (unit, class) pairs of the active pixels.
  const auto unit_index = torch::arange(units_, torch::kInt64).view({units_, 1, 1});
  const auto pair = (unit_index * (classes_ + 1) + label.unsqueeze(0)).masked_select(active);
  const auto counts = torch::bincount(pair, {}, units_ * (classes_ + 1)).contiguous();
  const int64_t* c = counts.data_ptr<int64_t>();
  for (size_t i = 0; i < intersection_.size(); ++i)
    intersection_[i] += c[i];
  const auto areas = active.sum({1, 2}).contiguous();
  for (int64_t u = 0; u < units_; ++u)
    unit_area_[static_cast<size_t>(u)] += areas[u].item<int64_t>();
  const auto per_class = torch::bincount(label.flatten(), {}, classes_ + 1).contiguous();
  const int64_t* pc = per_class.data_ptr<int64_t>();
  for (int64_t k = 1; k <= classes_; ++k)
    class_area_[static_cast<size_t>(k)] += pc[k];
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

}  // namespace scenery::eval
