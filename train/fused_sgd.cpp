#include "train/fused_sgd.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "core/torch_compat.h"

namespace scenery::train {
namespace {

struct Coefficients {
  float weight_decay, momentum, one_minus_dampening, minus_lr;
  bool decay, use_momentum, nesterov, first_step;
};

// One element of torch::optim::SGD::step, in its order of operations:
//   d = grad.add(p, wd); buf = buf.mul(m).add(d, 1 - dampening) (or d on the
//   first step); d = nesterov ? d.add(buf, m) : buf; p = p.add(d, -lr).
// Each add-with-alpha is one fused multiply-add, as in LibTorch's kernels.
// The options are template arguments so each variant is a branch-free loop the
// compiler vectorises. always_inline + internal linkage: every caller gets its
// own copy compiled for its own target, none is shared across instruction sets.
template <bool kDecay, bool kMomentum, bool kFirstStep, bool kNesterov>
[[gnu::always_inline]] static inline void update_range(float* __restrict p,
                                                       const float* __restrict g,
                                                       float* __restrict buf, int64_t n,
                                                       Coefficients c) {
  const float wd = c.weight_decay, m = c.momentum, keep = c.one_minus_dampening;
  const float minus_lr = c.minus_lr;
  for (int64_t i = 0; i < n; ++i) {
    float d = kDecay ? std::fma(p[i], wd, g[i]) : g[i];
    if constexpr (kMomentum) {
      const float b = kFirstStep ? d : std::fma(d, keep, buf[i] * m);
      buf[i] = b;
      d = kNesterov ? std::fma(b, m, d) : b;
    }
    p[i] = std::fma(d, minus_lr, p[i]);
  }
}

[[gnu::always_inline]] static inline void update_any(float* p, const float* g, float* buf,
                                                     int64_t n, const Coefficients& c) {
  if (!c.use_momentum) {
    if (c.decay) return update_range<true, false, false, false>(p, g, buf, n, c);
    return update_range<false, false, false, false>(p, g, buf, n, c);
  }
  if (c.first_step) {
    if (c.nesterov) {
      if (c.decay) return update_range<true, true, true, true>(p, g, buf, n, c);
      return update_range<false, true, true, true>(p, g, buf, n, c);
    }
    if (c.decay) return update_range<true, true, true, false>(p, g, buf, n, c);
    return update_range<false, true, true, false>(p, g, buf, n, c);
  }
  if (c.nesterov) {
    if (c.decay) return update_range<true, true, false, true>(p, g, buf, n, c);
    return update_range<false, true, false, true>(p, g, buf, n, c);
  }
  if (c.decay) return update_range<true, true, false, false>(p, g, buf, n, c);
  return update_range<false, true, false, false>(p, g, buf, n, c);
}

#if defined(__x86_64__)
bool has_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

[[gnu::target("avx2,fma")]] void update_range_fma(float* p, const float* g, float* buf, int64_t n,
                                                  const Coefficients& c) {
  update_any(p, g, buf, n, c);
}
#endif

void update_range_portable(float* p, const float* g, float* buf, int64_t n, const Coefficients& c) {
  update_any(p, g, buf, n, c);
}

bool fusable(const torch::Tensor& p, const torch::Tensor& g) {
  return p.device().is_cpu() && g.device().is_cpu() && p.scalar_type() == torch::kFloat &&
         g.scalar_type() == torch::kFloat && p.layout() == torch::kStrided &&
         g.layout() == torch::kStrided && p.is_non_overlapping_and_dense() &&
         g.strides() == p.strides() && g.is_non_overlapping_and_dense();
}

}  // namespace

bool fused_sgd_vectorised() {
#if defined(__x86_64__)
  return has_fma();
#elif defined(__aarch64__)
  return true;  // FMA is part of the base instruction set
#else
  return false;
#endif
}

FusedSGD::FusedSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                   torch::optim::SGDOptions defaults)
    : torch::optim::SGD(std::move(param_groups), std::move(defaults)) {}

torch::Tensor FusedSGD::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::SGDOptions&>(group.options());
    for (auto& p : group.params()) {
      if (p.grad().defined()) update(p, options);
    }
  }
  return loss;
}

void FusedSGD::update(torch::Tensor& parameter, const torch::optim::SGDOptions& o) {
  const torch::Tensor grad = parameter.grad();
  const torch::Tensor p = parameter.data();
  torch::Tensor buf;
  torch::optim::SGDParamState* state = nullptr;
  bool first_step = false;
  if (o.momentum() != 0) {
    const auto key = compat::optimizer_state_key(state_, parameter);
    auto it = state_.find(key);
    if (it == state_.end()) {
      auto fresh = std::make_unique<torch::optim::SGDParamState>();
      fresh->momentum_buffer(torch::empty_like(p));
      it = state_.emplace(key, std::move(fresh)).first;
      first_step = true;
    }
    state = static_cast<torch::optim::SGDParamState*>(it->second.get());
    buf = state->momentum_buffer();
  }

  if (buf.defined() && fusable(p, grad) && buf.strides() != p.strides()) {
    // A buffer restored from a checkpoint comes back contiguous; give it the
    // parameter's layout (channels-last) once, so the fused pass applies.
    auto relaid = torch::empty_like(p);
    relaid.copy_(buf);
    buf = relaid;
    state->momentum_buffer(buf);
  }
  if (!fusable(p, grad) || (buf.defined() && !fusable(p, buf))) {
    // torch::optim::SGD's own operations.
    auto d = grad;
    if (o.weight_decay() != 0) d = d.add(p, o.weight_decay());
    if (buf.defined()) {
      if (first_step) {
        buf.copy_(d);
      } else {
        buf.mul_(o.momentum()).add_(d, 1 - o.dampening());
      }
      d = o.nesterov() ? d.add(buf, o.momentum()) : buf;
    }
    p.add_(d, -1 * o.lr());
    return;
  }

  const Coefficients c{static_cast<float>(o.weight_decay()),
                       static_cast<float>(o.momentum()),
                       static_cast<float>(1 - o.dampening()),
                       static_cast<float>(-1 * o.lr()),
                       o.weight_decay() != 0,
                       buf.defined(),
                       o.nesterov(),
                       first_step};
  float* pp = p.data_ptr<float>();
  const float* gp = grad.data_ptr<float>();
  float* bp = buf.defined() ? buf.data_ptr<float>() : nullptr;
#if defined(__x86_64__)
  const auto kernel = has_fma() ? update_range_fma : update_range_portable;
#else
  const auto kernel = update_range_portable;
#endif
  // Elements are independent: any split gives the same result.
  at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    kernel(pp + begin, gp + begin, bp ? bp + begin : nullptr, end - begin, c);
  });
}

}  // namespace scenery::train
