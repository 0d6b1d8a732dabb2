#include "train/optimizers.h"

#include <fmt/core.h>

#include "core/error.h"
#include "train/fused_sgd.h"

namespace scenery::train {

void add_optimizer_options(Config& c) {
  const OptimizerOptions d;
  const auto non_negative = Bounds::at_least(0);
  c.add_choice("train.optimizer", d.name, {"sgd", "adamw"}, "sgd or adamw (torch::optim)");
  c.add<double>("train.lr", d.lr,
                "base learning rate (of the head; the body gets lr * body_lr_mult)", non_negative);
  c.add<double>("train.body_lr_mult", d.body_lr_mult,
                "learning-rate multiplier of the body (non-head parameters); < 1 for fine-tuning",
                non_negative);
  c.add<double>("train.momentum", d.momentum, "SGD momentum", non_negative);
  c.add<bool>("train.nesterov", d.nesterov, "SGD: Nesterov momentum");
  c.add<double>("train.weight_decay", d.weight_decay, "weight decay (decoupled for adamw)",
                non_negative);
  c.add<bool>("train.no_decay_norm_bias", d.no_decay_norm_bias,
              "no weight decay on biases and normalisation weights (1-d parameters)");
  c.add<double>("train.adam_beta1", d.beta1, "AdamW beta1", Bounds::from_up_to_excluding(0, 1));
  c.add<double>("train.adam_beta2", d.beta2, "AdamW beta2", Bounds::from_up_to_excluding(0, 1));
  c.add<double>("train.adam_eps", d.eps, "AdamW epsilon", Bounds::above(0));
}

OptimizerOptions optimizer_options_from_config(const Config& c) {
  OptimizerOptions o;
  o.name = c.get<std::string>("train.optimizer");
  o.lr = c.get<double>("train.lr");
  o.body_lr_mult = c.get<double>("train.body_lr_mult");
  o.momentum = c.get<double>("train.momentum");
  o.nesterov = c.get<bool>("train.nesterov");
  o.weight_decay = c.get<double>("train.weight_decay");
  o.no_decay_norm_bias = c.get<bool>("train.no_decay_norm_bias");
  o.beta1 = c.get<double>("train.adam_beta1");
  o.beta2 = c.get<double>("train.adam_beta2");
  o.eps = c.get<double>("train.adam_eps");
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
