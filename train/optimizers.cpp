#include "train/optimizers.h"

#include <fmt/core.h>

#include "core/error.h"
#include "train/fused_sgd.h"

namespace scenery::train {

OptimizerOptions optimizer_options_from_config(const Config& c) {
  OptimizerOptions o;
  o.name = c.get<std::string>("train.optimizer");
  if (o.name != "sgd" && o.name != "adamw") {
    throw ConfigError(
        fmt::format("train.optimizer: unknown optimizer '{}' (expected sgd or adamw)", o.name));
  }
  o.lr = c.get<double>("train.lr");
  o.body_lr_mult = c.get<double>("train.body_lr_mult");
  o.momentum = c.get<double>("train.momentum");
  o.nesterov = c.get<bool>("train.nesterov");
  o.weight_decay = c.get<double>("train.weight_decay");
  o.no_decay_norm_bias = c.get<bool>("train.no_decay_norm_bias");
  o.beta1 = c.get<double>("train.adam_beta1");
  o.beta2 = c.get<double>("train.adam_beta2");
  o.eps = c.get<double>("train.adam_eps");
  if (o.lr < 0 || o.body_lr_mult < 0 || o.weight_decay < 0 || o.momentum < 0) {
    throw ConfigError(
        "train.lr, train.body_lr_mult, train.weight_decay and train.momentum must be >= 0");
  }
  if (o.name == "sgd" && o.nesterov && o.momentum <= 0) {
    throw ConfigError("train.nesterov needs train.momentum > 0");
  }
  return o;
}

bool is_norm_or_bias(const torch::Tensor& p) {
  return p.dim() <= 1;
}

BuiltOptimizer make_optimizer(const models::SceneModel& model, const OptimizerOptions& o) {
  struct Pending {
    ParamGroupInfo info;
    std::vector<torch::Tensor> params;
    double weight_decay;
  };
  std::vector<Pending> pending{
      {{"body", o.lr * o.body_lr_mult, 0}, {}, o.weight_decay},
      {{"body_no_decay", o.lr * o.body_lr_mult, 0}, {}, 0.0},
      {{"head", o.lr, 0}, {}, o.weight_decay},
      {{"head_no_decay", o.lr, 0}, {}, 0.0},
  };
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    const size_t index = (model.is_head_parameter(item.key()) ? 2 : 0) +
                         (o.no_decay_norm_bias && is_norm_or_bias(item.value()) ? 1 : 0);
    pending[index].params.push_back(item.value());
  }

  BuiltOptimizer built;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (auto& g : pending) {
    if (g.params.empty()) continue;
    g.info.size = g.params.size();
    std::unique_ptr<torch::optim::OptimizerOptions> options;
    if (o.name == "sgd") {
      options = std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(g.info.base_lr)
                                                               .momentum(o.momentum)
                                                               .nesterov(o.nesterov)
                                                               .weight_decay(g.weight_decay));
    } else {
      options =
          std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(g.info.base_lr)
                                                           .betas({o.beta1, o.beta2})
                                                           .eps(o.eps)
                                                           .weight_decay(g.weight_decay));
    }
    groups.emplace_back(std::move(g.params), std::move(options));
    built.groups.push_back(g.info);
  }
  if (groups.empty()) throw TrainError("the model has no trainable parameters");
  if (o.name == "sgd") {
    // The defaults given here are never used: every group carries its own options.
    built.optimizer = std::make_unique<FusedSGD>(std::move(groups), torch::optim::SGDOptions(o.lr));
  } else {
    built.optimizer =
        std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(o.lr));
  }
  return built;
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params())
      p.mutable_grad() = torch::Tensor();
  }
}

void apply_lr_factor(BuiltOptimizer& built, double factor) {
  auto& groups = built.optimizer->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].options().set_lr(built.groups[i].base_lr * factor);
  }
}

}  // namespace scenery::train
