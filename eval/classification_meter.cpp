#include "eval/classification_meter.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace scenery::eval {

std::string mca_convention_name(McaConvention c) {
  return c == McaConvention::kPresentClasses ? "mean over classes present in the ground truth"
                                             : "mean over all classes, absent ones counted as 0";
}

ClassificationMeter::ClassificationMeter(int64_t num_classes, std::vector<int64_t> ks)
    : num_classes_(num_classes), ks_(std::move(ks)) {
  if (num_classes_ < 1) {
    throw EvalError(
        fmt::format("a classification meter needs at least 1 class, got {}", num_classes_));
  }
  for (int64_t k : ks_) {
    if (k < 1) throw EvalError(fmt::format("top-k needs k >= 1, got {}", k));
  }
  reset();
}

void ClassificationMeter::reset() {
  total_ = 0;
  correct_at_k_.assign(ks_.size(), 0);
  class_total_.assign(num_classes_, 0);
  confusion_.assign(num_classes_ * num_classes_, 0);
}

void ClassificationMeter::add(const torch::Tensor& scores_in, const torch::Tensor& labels_in) {
  if (scores_in.dim() != 2 || scores_in.size(1) != num_classes_) {
    throw EvalError(fmt::format("scores must be [N, {}], got {}", num_classes_,
                                fmt::format("{}", fmt::join(scores_in.sizes(), "x"))));
  }
  if (labels_in.dim() != 1 || labels_in.size(0) != scores_in.size(0)) {
    throw EvalError(fmt::format("labels must be [{}], got {} dims of size {}", scores_in.size(0),
                                labels_in.dim(), labels_in.numel()));
  }
  const auto scores = scores_in.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const auto labels = labels_in.detach().to(torch::kCPU, torch::kLong).contiguous();
  const float* s = scores.data_ptr<float>();
  const int64_t* y = labels.data_ptr<int64_t>();
  const int64_t n = scores.size(0);
  const int64_t c_count = num_classes_;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = s + i * c_count;
    const int64_t label = y[i];
    if (label < 0 || label >= c_count) {
      throw EvalError(fmt::format("label {} of sample {} is outside 0..{}", label, i, c_count - 1));
    }
    const float truth = row[label];
    int64_t rank = 0;
    int64_t best = 0;
    for (int64_t c = 0; c < c_count; ++c) {
      const float v = row[c];
      if (std::isnan(v))
        throw EvalError(fmt::format("score of class {} for sample {} is NaN", c, i));
      rank += (v > truth) || (v == truth && c < label);
      if (v > row[best]) best = c;  // strict: the lowest index wins ties
    }
    for (size_t j = 0; j < ks_.size(); ++j)
      correct_at_k_[j] += rank < ks_[j];
    ++class_total_[label];
    ++confusion_[label * c_count + best];
  }
  total_ += n;
}

void ClassificationMeter::merge(const ClassificationMeter& other) {
  if (other.num_classes_ != num_classes_ || other.ks_ != ks_) {
    throw EvalError(fmt::format("cannot merge meters of {} and {} classes (or different k)",
                                num_classes_, other.num_classes_));
  }
  merge_state(other.state());
}

torch::Tensor ClassificationMeter::state() const {
  std::vector<int64_t> flat;
  flat.reserve(1 + correct_at_k_.size() + class_total_.size() + confusion_.size());
  flat.push_back(total_);
  flat.insert(flat.end(), correct_at_k_.begin(), correct_at_k_.end());
  flat.insert(flat.end(), class_total_.begin(), class_total_.end());
  flat.insert(flat.end(), confusion_.begin(), confusion_.end());
  return torch::tensor(flat, torch::kLong);
}

void ClassificationMeter::merge_state(const torch::Tensor& state_in) {
  const auto st = state_in.to(torch::kCPU, torch::kLong).contiguous();
  const size_t expected = 1 + correct_at_k_.size() + class_total_.size() + confusion_.size();
  if (static_cast<size_t>(st.numel()) != expected) {
    throw EvalError(fmt::format("meter state has {} counters, expected {}", st.numel(), expected));
  }
  const int64_t* p = st.data_ptr<int64_t>();
  total_ += *p++;
  for (auto& v : correct_at_k_)
    v += *p++;
  for (auto& v : class_total_)
    v += *p++;
  for (auto& v : confusion_)
    v += *p++;
}

double ClassificationMeter::topk(int64_t k) const {
  const auto it = std::find(ks_.begin(), ks_.end(), k);
  if (it == ks_.end()) {
    throw EvalError(fmt::format("top-{} was not tracked; tracked k: {}", k, fmt::join(ks_, ", ")));
  }
  if (total_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(correct_at_k_[it - ks_.begin()]) / total_;
}

double ClassificationMeter::class_accuracy(int64_t c) const {
  const int64_t n = class_total_.at(c);
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(confusion_[c * num_classes_ + c]) / n;
}

double ClassificationMeter::mean_class_accuracy(McaConvention convention) const {
  double sum = 0;
  int64_t classes = 0;
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (class_total_[c] == 0) {
      if (convention == McaConvention::kAllClasses) ++classes;
      continue;
    }
    sum += class_accuracy(c);
    ++classes;
  }
  return classes == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / classes;
}

}  // namespace scenery::eval
