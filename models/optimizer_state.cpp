#include "models/optimizer_state.h"

#include <fmt/core.h>

#include "core/error.h"
#include "core/torch_compat.h"

namespace scenery::models {
namespace optim = torch::optim;

namespace {

torch::Tensor checked(const std::string& name, const std::string& slot,
                      const std::map<std::string, torch::Tensor>& slots, const torch::Tensor& p) {
  auto it = slots.find(slot);
  if (it == slots.end()) {
    throw CheckpointError(fmt::format("optimizer state of '{}' lacks '{}'", name, slot));
  }
  if (it->second.sizes() != p.sizes()) {
    throw CheckpointError(
        fmt::format("optimizer state '{}' of '{}' has the wrong shape", slot, name));
  }
  return it->second.to(p.device(), p.scalar_type()).clone();
}

}  // namespace

std::string optimizer_name(const optim::Optimizer& optimizer) {
  if (dynamic_cast<const optim::SGD*>(&optimizer)) return "sgd";
  if (dynamic_cast<const optim::AdamW*>(&optimizer)) return "adamw";
  throw CheckpointError("only SGD and AdamW optimizer states can be checkpointed");
}

NamedTensorMap export_optimizer_state(optim::Optimizer& optimizer, const StateDict& params) {
  const std::string kind = optimizer_name(optimizer);
  auto& state = optimizer.state();
  NamedTensorMap out;
  for (const auto& item : params) {
    auto it = state.find(compat::optimizer_state_key(state, item.value()));
    if (it == state.end()) continue;
    auto& slots = out[item.key()];
    if (kind == "sgd") {
      auto& s = static_cast<optim::SGDParamState&>(*it->second);
      if (s.momentum_buffer().defined()) slots["momentum_buffer"] = s.momentum_buffer();
    } else {
      auto& s = static_cast<optim::AdamWParamState&>(*it->second);
      slots["step"] = torch::tensor(static_cast<int64_t>(s.step()));
      slots["exp_avg"] = s.exp_avg();
      slots["exp_avg_sq"] = s.exp_avg_sq();
      if (s.max_exp_avg_sq().defined()) slots["max_exp_avg_sq"] = s.max_exp_avg_sq();
    }
    if (slots.empty()) out.erase(item.key());
  }
  return out;
}

void import_optimizer_state(optim::Optimizer& optimizer, const StateDict& params,
                            const NamedTensorMap& named_state) {
  const std::string kind = optimizer_name(optimizer);
  auto& state = optimizer.state();
  for (const auto& [name, slots] : named_state) {
    const torch::Tensor* p = params.find(name);
    if (!p) throw CheckpointError(fmt::format("optimizer state for unknown parameter '{}'", name));
    if (kind == "sgd") {
      auto s = std::make_unique<optim::SGDParamState>();
      s->momentum_buffer(checked(name, "momentum_buffer", slots, *p));
      state[compat::optimizer_state_key(state, *p)] = std::move(s);
    } else {
      auto s = std::make_unique<optim::AdamWParamState>();
      auto step = slots.find("step");
      if (step == slots.end()) {
        throw CheckpointError(fmt::format("optimizer state of '{}' lacks 'step'", name));
      }
      s->step(step->second.item<int64_t>());
      s->exp_avg(checked(name, "exp_avg", slots, *p));
      s->exp_avg_sq(checked(name, "exp_avg_sq", slots, *p));
      if (slots.count("max_exp_avg_sq")) {
        s->max_exp_avg_sq(checked(name, "max_exp_avg_sq", slots, *p));
      }
      state[compat::optimizer_state_key(state, *p)] = std::move(s);
    }
  }
}

}  // namespace scenery::models
