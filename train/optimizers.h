// Optimizer construction: SGD (momentum, Nesterov; torch::optim's, with the
// per-parameter update fused: train/fused_sgd.h) or AdamW from torch::optim,
// with parameter groups split by (body | head) x (decayed | not decayed), so
// the body can learn slower than a fresh head and biases / normalisation
// weights can skip weight decay.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/scene_model.h"

namespace scenery::train {

struct OptimizerOptions {
  std::string name = "sgd";  // sgd | adamw
  double lr = 0.1;           // head lr; body lr = lr * body_lr_mult
  double body_lr_mult = 1.0;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 1e-4;
  bool no_decay_norm_bias = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// Registers the optimiser options of [train] (optimizer, lr, body_lr_mult,
// momentum, nesterov, weight_decay, no_decay_norm_bias, adam_*), defaults above.
void add_optimizer_options(Config& config);
// Reads them back; ConfigError for combinations the schema cannot see
// (Nesterov without momentum).
OptimizerOptions optimizer_options_from_config(const Config& config);

struct ParamGroupInfo {
  std::string name;  // "body", "body_no_decay", "head", "head_no_decay"
  double base_lr = 0;
  size_t size = 0;  // parameters
};

struct BuiltOptimizer {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<ParamGroupInfo> groups;  // same order as optimizer->param_groups()
};

// Why "dim <= 1" identifies norm and bias parameters: every bias and every
// BatchNorm/LayerNorm affine weight is 1-d, every conv/linear weight is not.
bool is_norm_or_bias(const torch::Tensor& parameter);

// Empty groups are left out. Only parameters with requires_grad take part.
BuiltOptimizer make_optimizer(const models::SceneModel& model, const OptimizerOptions& options);

// Drops every parameter's gradient (PyTorch 2's zero_grad(set_to_none=True)):
// no pass writing zeros, and the next backward hands its gradient over instead
// of adding it to zeros. A parameter that gets no gradient is then skipped by
// the optimizer (no weight decay or momentum step), as in PyTorch 2.
void clear_gradients(torch::optim::Optimizer& optimizer);

// Sets every group's lr to its base lr * factor.
void apply_lr_factor(BuiltOptimizer& built, double factor);

}  // namespace scenery::train
