#include "models/batch_norm.h"

#include <fmt/core.h>

#include "core/error.h"
#include "models/autograd_apply.h"

namespace scenery::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::Tensor per_channel(const torch::Tensor& t) {
  return t.view({1, -1, 1, 1});
}

// Forward and backward of BatchNorm over the union of every rank's batch.
// The sync is kept as an address in saved_data: the module that owns it
// outlives every graph built from its forward within a training step.
struct SyncBatchNormFunction : torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps, BatchNormSync* sync) {
    const int64_t channels = x.size(1);
    const int64_t local_count = x.numel() / std::max<int64_t>(1, channels);
    const auto xf = x.to(torch::kFloat);
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble).device(x.device());
    // Row `rank`: this rank's [mean (C), biased variance (C), count].
    auto stats = torch::zeros({sync->world_size(), 2 * channels + 1}, f64);
    if (local_count > 0) {
      const auto [var, mean] = torch::var_mean(xf, {0, 2, 3}, /*unbiased=*/false);
      auto row = stats[sync->rank()];
      row.narrow(0, 0, channels).copy_(mean);
      row.narrow(0, channels, channels).copy_(var);
      row[2 * channels] = static_cast<double>(local_count);
    }
    sync->all_reduce_sum(stats);
    const auto counts = stats.select(1, 2 * channels).unsqueeze(1);  // [W, 1]
    const double total = counts.sum().item<double>();
    if (total < 1) throw ModelError("synchronised BatchNorm: every rank's batch is empty");
    const auto means = stats.narrow(1, 0, channels);
    const auto vars = stats.narrow(1, channels, channels);
    const auto mean = (means * counts).sum(0) / total;
    const auto var = ((vars + (means - mean).square()) * counts).sum(0) / total;
    const auto invstd = (var + eps).rsqrt();
    if (running_mean.defined()) {
      torch::NoGradGuard no_grad;
      const double unbias = total > 1 ? total / (total - 1) : 1.0;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype()), momentum);
      running_var.mul_(1 - momentum).add_((var * unbias).to(running_var.dtype()), momentum);
    }
    const auto mean_f = mean.to(torch::kFloat);
    const auto invstd_f = invstd.to(torch::kFloat);
    auto scale = invstd_f;
    if (weight.defined()) scale = scale * weight.to(torch::kFloat);
    auto y = (xf - per_channel(mean_f)) * per_channel(scale);
    if (bias.defined()) y = y + per_channel(bias.to(torch::kFloat));
    ctx->save_for_backward({x, weight, mean_f, invstd_f});
    ctx->saved_data["total"] = total;
    ctx->saved_data["sync"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(sync));
    return y.to(x.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double total = ctx->saved_data["total"].toDouble();
    auto* sync =
        reinterpret_cast<BatchNormSync*>(static_cast<intptr_t>(ctx->saved_data["sync"].toInt()));
    const int64_t channels = x.size(1);
    const auto dy = grads[0].to(torch::kFloat);
    const auto xmu = x.to(torch::kFloat) - per_channel(mean);
    const auto sum_dy = dy.sum({0, 2, 3});
    const auto sum_dy_xmu = (dy * xmu).sum({0, 2, 3});
    torch::Tensor grad_weight, grad_bias;
    if (weight.defined()) {
      grad_weight = (sum_dy_xmu * invstd).to(weight.scalar_type());
      grad_bias = sum_dy.to(weight.scalar_type());
    }
    auto reduced = torch::cat({sum_dy, sum_dy_xmu}).to(torch::kDouble);
    sync->all_reduce_sum(reduced);
    const auto mean_dy = (reduced.narrow(0, 0, channels) / total).to(torch::kFloat);
    const auto mean_dy_xmu = (reduced.narrow(0, channels, channels) / total).to(torch::kFloat);
    auto scale = invstd;
    if (weight.defined()) scale = scale * weight.to(torch::kFloat);
    const auto dx = (dy - per_channel(mean_dy) - xmu * per_channel(invstd.square() * mean_dy_xmu)) *
                    per_channel(scale);
    return {dx.to(x.scalar_type()), grad_weight, grad_bias, {}, {}, {}, {}, {}};
  }
};

}  // namespace

void BatchNorm2dImpl::_check_input_dim(const torch::Tensor& input) {
  if (input.dim() != 4) {
    throw ModelError(fmt::format("BatchNorm2d: expected a 4-D input, got {}-D", input.dim()));
  }
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& input) {
  // torch::nn::BatchNorm2d's forward, step for step.
  _check_input_dim(input);
  double factor = options.momentum().value_or(0.0);
  const bool track = options.track_running_stats();
  if (is_training() && track && num_batches_tracked.defined()) {
    num_batches_tracked += 1;
    if (!options.momentum()) factor = 1.0 / num_batches_tracked.item<double>();
  }
  if (!sync_ || sync_->world_size() < 2 || !is_training()) {
    return torch::nn::functional::detail::batch_norm(input, running_mean, running_var, weight, bias,
                                                     is_training() || !track, factor,
                                                     options.eps());
  }
  return autograd_apply<SyncBatchNormFunction>(
      input, weight, bias, track ? running_mean : torch::Tensor(),
      track ? running_var : torch::Tensor(), factor, options.eps(), sync_.get());
}

void BatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "scenery::models::BatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=";
  if (options.momentum()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << (options.affine() ? "true" : "false")
         << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false")
         << (sync_ ? ", synchronised" : "") << ")";
}

int64_t set_batchnorm_sync(torch::nn::Module& module, const std::shared_ptr<BatchNormSync>& sync) {
  int64_t n = 0;
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(m.get())) {
      bn->set_sync(sync);
      ++n;
    }
  }
  return n;
}

std::vector<std::string> unsynchronisable_batchnorms(torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    const auto* m = item.value().get();
    if (dynamic_cast<const torch::nn::BatchNorm2dImpl*>(m)) {
      names.push_back(item.key());
    }
  }
  return names;
}

}  // namespace scenery::models
