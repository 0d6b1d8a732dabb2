#include "train/weight_ema.h"

#include <fmt/core.h>

#include "core/error.h"

namespace scenery::train {

WeightEma::WeightEma(const models::SceneModel& model, double decay) : decay_(decay) {
  if (!(decay > 0 && decay < 1))
    throw ConfigError(fmt::format("train.ema_decay: expected 0 < decay < 1, got {}", decay));
  torch::NoGradGuard no_grad;
  for (const auto& item : model.state_dict()) {
    names_.push_back(item.key());
    average_.push_back(item.value().detach().clone());
  }
}

void WeightEma::update(const models::SceneModel& model) {
  torch::NoGradGuard no_grad;
  const auto current = model.state_dict();
  for (size_t i = 0; i < average_.size(); ++i) {
    const torch::Tensor& v = current[names_[i]];
    if (average_[i].is_floating_point())
      average_[i].mul_(decay_).add_(v.detach(), 1.0 - decay_);
    else
      average_[i].copy_(v);
  }
}

void WeightEma::swap(models::SceneModel& model) {
  torch::NoGradGuard no_grad;
  auto current = model.state_dict();
  for (size_t i = 0; i < average_.size(); ++i) {
    torch::Tensor& v = current[names_[i]];
    const auto weights = v.detach().clone();
    v.detach().copy_(average_[i]);
    average_[i].copy_(weights);
  }
}

models::StateDict WeightEma::state() const {
  models::StateDict out;
  for (size_t i = 0; i < average_.size(); ++i)
    out.insert(names_[i], average_[i].to(torch::kCPU).clone());  // never an alias
  return out;
}

void WeightEma::load(const models::StateDict& state, const std::string& where) {
  if (state.size() != average_.size())
    throw CheckpointError(fmt::format("{}: the weight average has {} tensors, the model {}", where,
                                      state.size(), average_.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < average_.size(); ++i) {
    const torch::Tensor* t = state.find(names_[i]);
    if (!t || t->sizes() != average_[i].sizes())
      throw CheckpointError(
          fmt::format("{}: the weight average lacks '{}' or its shape differs", where, names_[i]));
    average_[i].copy_(*t);
  }
}

}  // namespace scenery::train
