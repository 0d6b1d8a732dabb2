#include "inspect/unit_quantile.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"

namespace scenery::inspect {

UnitQuantile::UnitQuantile(int64_t units, int64_t values_per_unit, double q)
    : units_(units), total_(values_per_unit), q_(q) {
  if (units < 1 || values_per_unit < 1 || !(q >= 0 && q <= 1)) {
    throw EvalError(
        fmt::format("unit quantile: need units >= 1, N >= 1 and 0 <= q <= 1; got {}, "
                    "{}, {}",
                    units, values_per_unit, q));
  }
  const auto lower = static_cast<int64_t>(std::floor(q * static_cast<double>(total_ - 1)));
  keep_ = total_ - lower;
  heaps_.resize(static_cast<size_t>(units));
  for (auto& h : heaps_)
    h.reserve(static_cast<size_t>(keep_));
}

void UnitQuantile::add(const torch::Tensor& activations) {
  if (activations.dim() < 2 || activations.size(activations.dim() == 2 ? 0 : 1) != units_) {
    throw EvalError(fmt::format("unit quantile: activations of {} units expected, got shape {}",
                                units_, fmt::join(activations.sizes(), "x")));
  }
  // units x values, contiguous per unit.
  const auto per_unit = (activations.dim() == 2 ? activations : activations.transpose(0, 1))
                            .to(torch::kCPU, torch::kFloat32)
                            .reshape({units_, -1})
                            .contiguous();
  const int64_t n = per_unit.size(1);
  if (seen_ + n > total_) {
    throw EvalError(
        fmt::format("unit quantile: {} values per unit declared, {} arrived", total_, seen_ + n));
  }
  const float* data = per_unit.data_ptr<float>();
  tbb::parallel_for(int64_t{0}, units_, [&](int64_t u) {
    auto& heap = heaps_[static_cast<size_t>(u)];
    const float* v = data + u * n;
    for (int64_t i = 0; i < n; ++i) {
      if (static_cast<int64_t>(heap.size()) < keep_) {
        heap.push_back(v[i]);
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
      } else if (v[i] > heap.front()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        heap.back() = v[i];
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
      }
    }
  });
  seen_ += n;
}

std::vector<float> UnitQuantile::thresholds() const {
  if (seen_ == 0) throw EvalError("unit quantile: no activations were added");
  const double position = q_ * static_cast<double>(seen_ - 1);
  const auto lower = static_cast<int64_t>(std::floor(position));
  const double fraction = position - static_cast<double>(lower);
  std::vector<float> out(static_cast<size_t>(units_));
  for (int64_t u = 0; u < units_; ++u) {
    std::vector<float> top = heaps_[static_cast<size_t>(u)];
    std::sort(top.begin(), top.end());
    // top holds x[seen - |top|] .. x[seen - 1] of the sorted values.
    const auto first = static_cast<size_t>(lower - (seen_ - static_cast<int64_t>(top.size())));
    const double lo = top[first];
    const double hi = first + 1 < top.size() ? top[first + 1] : top[first];
    // numpy's _lerp, both halves, in float64.
    const double value =
        fraction >= 0.5 ? hi - (hi - lo) * (1 - fraction) : lo + (hi - lo) * fraction;
    out[static_cast<size_t>(u)] = static_cast<float>(value);
  }
  return out;
}

}  // namespace scenery::inspect
