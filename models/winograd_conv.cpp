#include "models/winograd_conv.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "models/autograd_apply.h"
#include "models/gemm_weight_grad.h"

#if SCENERY_HAVE_ONEDNN
#include <dnnl.hpp>

#include "models/onednn_engine.h"
#endif

namespace scenery::models {
namespace {

std::atomic<bool> g_winograd_enabled{false};

constexpr int64_t kChannelBlock = 16;
constexpr int64_t kMinOutputSide = 7;

// N, C, H, W, O, padding h, padding w, threads. Threads belong in the key:
// oneDNN sizes a primitive's work split for the thread count it was built for.
using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;

PlanKey plan_key(const torch::Tensor& input, const torch::Tensor& weight, int64_t padding_h,
                 int64_t padding_w) {
  return {input.size(0),  input.size(1), input.size(2), input.size(3),
          weight.size(0), padding_h,     padding_w,     at::get_num_threads()};
}

#if SCENERY_HAVE_ONEDNN

using dnnl::memory;
using Dims = memory::dims;

std::string describe_plan(const PlanKey& k) {
  return fmt::format("input {}x{}x{}x{}, {} output channels, padding {}x{}", std::get<0>(k),
                     std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), std::get<5>(k),
                     std::get<6>(k));
}

// The three primitives of one geometry, built once: building one JIT-compiles
// its kernels (milliseconds), running it costs microseconds of overhead.
struct Plan {
  dnnl::convolution_forward::primitive_desc forward_pd;
  dnnl::convolution_backward_data::primitive_desc backward_data_pd;
  dnnl::convolution_backward_weights::primitive_desc backward_weights_pd;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
};

std::unique_ptr<Plan> make_plan(const PlanKey& k) {
  const auto [n, c, h, w, o, ph, pw, threads] = k;
  (void)threads;
  const Dims strides{1, 1}, padding{ph, pw};
  const Dims out{n, o, h + 2 * ph - 2, w + 2 * pw - 2};
  // format_tag::any lets the Winograd kernels pick their blocked layouts;
  // tensors are reordered in and out of them around each call.
  const memory::desc src({n, c, h, w}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc weights({o, c, 3, 3}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc dst(out, memory::data_type::f32, memory::format_tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // scratch comes from torch's allocator
  const auto algorithm = dnnl::algorithm::convolution_winograd;
  auto plan = std::make_unique<Plan>();
  auto& engine = onednn_cpu_engine();
  // oneDNN 3 (Debian 13) builds primitive descriptors directly; 2.x (Debian 12)
  // from operation descriptors. Same primitives, same arguments.
#if DNNL_VERSION_MAJOR >= 3
  plan->forward_pd = dnnl::convolution_forward::primitive_desc(
      engine, dnnl::prop_kind::forward_training, algorithm, src, weights, dst, strides, padding,
      padding, attr);
  plan->backward_data_pd = dnnl::convolution_backward_data::primitive_desc(
      engine, algorithm, src, weights, dst, strides, padding, padding, plan->forward_pd, attr);
  plan->backward_weights_pd = dnnl::convolution_backward_weights::primitive_desc(
      engine, algorithm, src, weights, dst, strides, padding, padding, plan->forward_pd, attr);
#else
  plan->forward_pd = dnnl::convolution_forward::primitive_desc(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algorithm, src, weights,
                                      dst, strides, padding, padding),
      attr, engine);
  plan->backward_data_pd = dnnl::convolution_backward_data::primitive_desc(
      dnnl::convolution_backward_data::desc(algorithm, src, weights, dst, strides, padding,
                                            padding),
      attr, engine, plan->forward_pd);
  plan->backward_weights_pd = dnnl::convolution_backward_weights::primitive_desc(
      dnnl::convolution_backward_weights::desc(algorithm, src, weights, dst, strides, padding,
                                               padding),
      attr, engine, plan->forward_pd);
#endif
  plan->forward = dnnl::convolution_forward(plan->forward_pd);
  plan->backward_data = dnnl::convolution_backward_data(plan->backward_data_pd);
  plan->backward_weights = dnnl::convolution_backward_weights(plan->backward_weights_pd);
  return plan;
}

// Plans by geometry; a geometry oneDNN refuses is remembered as null. Training
// crops have a fixed size, so a run builds a handful of plans.
const Plan* find_plan(const PlanKey& key) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<Plan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(key);
  if (it == plans.end()) {
    std::unique_ptr<Plan> plan;
    try {
      plan = make_plan(key);
    } catch (const dnnl::error&) {
      // Unsupported geometry or CPU: the caller keeps the direct path.
    }
    it = plans.emplace(key, std::move(plan)).first;
  }
  return it->second.get();
}

const Plan& plan_for(const PlanKey& key) {
  const Plan* plan = find_plan(key);
  if (!plan) {
    throw ModelError(
        fmt::format("Winograd convolution: oneDNN has no Winograd kernel for {} on this CPU",
                    describe_plan(key)));
  }
  return *plan;
}

memory::desc strided_desc(const torch::Tensor& t) {
  return memory::desc(Dims(t.sizes().begin(), t.sizes().end()), memory::data_type::f32,
                      Dims(t.strides().begin(), t.strides().end()));
}

memory wrap(const torch::Tensor& t) {
  return memory(strided_desc(t), onednn_cpu_engine(), t.data_ptr<float>());
}

// A tensor as a primitive wants it: the tensor's own memory when the layouts
// agree, else a buffer in the primitive's layout (kept alive by `storage`).
struct Bound {
  memory mem;
  torch::Tensor storage;
  bool is_own_memory() const { return !storage.defined(); }
};

Bound bind(const memory::desc& wanted, const torch::Tensor& t) {
  memory user = wrap(t);
  if (user.get_desc() == wanted) return {user, {}};
  Bound bound{
      {}, torch::empty({static_cast<int64_t>(wanted.get_size() / sizeof(float))}, torch::kFloat)};
  bound.mem = memory(wanted, onednn_cpu_engine(), bound.storage.data_ptr<float>());
  return bound;
}

// An input: bound, and reordered into the buffer when it got one.
Bound bind_input(const memory::desc& wanted, const torch::Tensor& t, dnnl::stream& stream) {
  Bound bound = bind(wanted, t);
  if (!bound.is_own_memory()) {
    memory user = wrap(t);
    dnnl::reorder(user, bound.mem).execute(stream, user, bound.mem);
  }
  return bound;
}

// An output: reordered from its buffer into the tensor when it got one.
void finish_output(Bound& bound, const torch::Tensor& t, dnnl::stream& stream) {
  if (bound.is_own_memory()) return;
  memory user = wrap(t);
  dnnl::reorder(bound.mem, user).execute(stream, bound.mem, user);
}

// Torch's allocator (and with it the retained heap) serves the scratchpad.
struct Scratchpad {
  explicit Scratchpad(const memory::desc& desc)
      : storage(torch::empty({std::max<int64_t>(1, static_cast<int64_t>(desc.get_size()))},
                             torch::kUInt8)),
        mem(desc, onednn_cpu_engine(), storage.data_ptr()) {}
  torch::Tensor storage;
  memory mem;
};

// Runs one of a plan's primitives: `inputs` already in its layouts, `output`
// (argument `output_arg`) written through a buffer in its layout when the
// tensor's own layout differs.
void execute(const dnnl::primitive& primitive, const dnnl::primitive_desc_base& pd,
             const std::vector<std::pair<int, const Bound*>>& inputs, int output_arg,
             const torch::Tensor& output, dnnl::stream& stream) {
  Bound out = bind(pd.query_md(dnnl::query::exec_arg_md, output_arg), output);
  Scratchpad scratch(pd.scratchpad_desc());
  std::unordered_map<int, memory> args{{output_arg, out.mem}, {DNNL_ARG_SCRATCHPAD, scratch.mem}};
  for (const auto& [arg, bound] : inputs)
    args.emplace(arg, bound->mem);
  primitive.execute(stream, args);
  finish_output(out, output, stream);
}

torch::Tensor run_forward(const torch::Tensor& input, const torch::Tensor& weight,
                          int64_t padding_h, int64_t padding_w) {
  // The key named first: GCC 14 takes a reference returned by a call with a temporary
  // argument for a dangling one (the plan lives in plan_for's map).
  const PlanKey key = plan_key(input, weight, padding_h, padding_w);
  const Plan& plan = plan_for(key);
  auto output = torch::empty({input.size(0), weight.size(0), input.size(2) + 2 * padding_h - 2,
                              input.size(3) + 2 * padding_w - 2},
                             input.options().memory_format(input.suggest_memory_format()));
  dnnl::stream stream(onednn_cpu_engine());
  const Bound src = bind_input(plan.forward_pd.src_desc(), input, stream);
  const Bound weights = bind_input(plan.forward_pd.weights_desc(), weight, stream);
  execute(plan.forward, plan.forward_pd, {{DNNL_ARG_SRC, &src}, {DNNL_ARG_WEIGHTS, &weights}},
          DNNL_ARG_DST, output, stream);
  stream.wait();
  return output;
}

torch::Tensor run_backward_data(const Plan& plan, const Bound& diff_dst, const torch::Tensor& input,
                                const torch::Tensor& weight, dnnl::stream& stream) {
  auto grad_input = torch::empty_like(input);
  const Bound weights = bind_input(plan.backward_data_pd.weights_desc(), weight, stream);
  execute(plan.backward_data, plan.backward_data_pd,
          {{DNNL_ARG_DIFF_DST, &diff_dst}, {DNNL_ARG_WEIGHTS, &weights}}, DNNL_ARG_DIFF_SRC,
          grad_input, stream);
  return grad_input;
}

torch::Tensor run_backward_weights(const Plan& plan, const Bound& diff_dst,
                                   const torch::Tensor& input, const torch::Tensor& weight,
                                   dnnl::stream& stream) {
  auto grad_weight = torch::empty_like(weight);  // the parameter's strides, as autograd expects
  const Bound src = bind_input(plan.backward_weights_pd.src_desc(), input, stream);
  execute(plan.backward_weights, plan.backward_weights_pd,
          {{DNNL_ARG_SRC, &src}, {DNNL_ARG_DIFF_DST, &diff_dst}}, DNNL_ARG_DIFF_WEIGHTS,
          grad_weight, stream);
  return grad_weight;
}

// oneDNN reports failures (out of memory, say) as dnnl::error; library code
// throws ModelError naming the convolution.
template <class Body>
auto translating_onednn_errors(const PlanKey& key, Body&& body) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    throw ModelError(
        fmt::format("Winograd convolution ({}): oneDNN failed: {}", describe_plan(key), e.what()));
  }
}

class WinogradConvFunction : public torch::autograd::Function<WinogradConvFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t padding_h, int64_t padding_w) {
    ctx->save_for_backward({input, weight});
    ctx->saved_data["padding_h"] = padding_h;
    ctx->saved_data["padding_w"] = padding_w;
    return translating_onednn_errors(plan_key(input, weight, padding_h, padding_w), [&] {
      return run_forward(input, weight, padding_h, padding_w);
    });
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const int64_t padding_h = ctx->saved_data["padding_h"].toInt();
    const int64_t padding_w = ctx->saved_data["padding_w"].toInt();
    const auto key = plan_key(input, weight, padding_h, padding_w);
    const Plan& plan = plan_for(key);
    const auto grad_output = grads[0].contiguous(input.suggest_memory_format());
    const bool want_input = ctx->needs_input_grad(0), want_weight = ctx->needs_input_grad(1);
    return translating_onednn_errors(key, [&]() -> torch::autograd::variable_list {
      dnnl::stream stream(onednn_cpu_engine());
      // Both passes read the output gradient, usually in the same blocked
      // layout: reorder it once.
      const auto data_layout = plan.backward_data_pd.diff_dst_desc();
      const auto weights_layout = plan.backward_weights_pd.diff_dst_desc();
      Bound for_data, for_weights;
      if (want_input) for_data = bind_input(data_layout, grad_output, stream);
      if (want_weight) {
        for_weights = want_input && data_layout == weights_layout
                          ? for_data
                          : bind_input(weights_layout, grad_output, stream);
      }
      torch::Tensor grad_input, grad_weight;
      if (want_input) grad_input = run_backward_data(plan, for_data, input, weight, stream);
      if (want_weight) {
        grad_weight = run_backward_weights(plan, for_weights, input, weight, stream);
      }
      stream.wait();
      return {grad_input, grad_weight, torch::Tensor(), torch::Tensor()};
    });
  }
};

#endif  // SCENERY_HAVE_ONEDNN

bool plan_exists(const PlanKey& key) {
#if SCENERY_HAVE_ONEDNN
  return find_plan(key) != nullptr;
#else
  (void)key;
  return false;
#endif
}

}  // namespace

bool winograd_available() {
  // The smallest geometry the kernels take: one 16-channel block, 8x8 pixels.
  static const bool available = plan_exists({1, kChannelBlock, 8, 8, kChannelBlock, 1, 1, 1});
  return available;
}

void set_winograd_training(bool enabled) {
  g_winograd_enabled = enabled;
}

bool winograd_training_enabled() {
  return g_winograd_enabled;
}

bool winograd_applies(const torch::Tensor& input, const torch::Tensor& weight, int64_t padding_h,
                      int64_t padding_w) {
  if (!g_winograd_enabled || !torch::GradMode::is_enabled() || !weight.requires_grad())
    return false;
  if (input.dim() != 4 || weight.dim() != 4 || !input.device().is_cpu() ||
      !weight.device().is_cpu() || input.scalar_type() != torch::kFloat ||
      weight.scalar_type() != torch::kFloat || input.layout() != torch::kStrided ||
      weight.size(2) != 3 || weight.size(3) != 3 || input.size(1) != weight.size(1)) {
    return false;
  }
  if (input.size(1) % kChannelBlock != 0 || weight.size(0) % kChannelBlock != 0) return false;
  if (input.size(2) + 2 * padding_h - 2 < kMinOutputSide ||
      input.size(3) + 2 * padding_w - 2 < kMinOutputSide) {
    return false;
  }
  return winograd_available() && plan_exists(plan_key(input, weight, padding_h, padding_w));
}

torch::Tensor winograd_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                              int64_t padding_h, int64_t padding_w) {
  if (input.dim() != 4 || weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3 ||
      input.size(1) != weight.size(1)) {
    throw ModelError(fmt::format(
        "Winograd convolution: expected input (N, C, H, W) and weight (O, C, 3, 3), got {} and {}",
        fmt::join(input.sizes(), "x"), fmt::join(weight.sizes(), "x")));
  }
#if SCENERY_HAVE_ONEDNN
  const auto format = input.suggest_memory_format();
  return autograd_apply<WinogradConvFunction>(input.contiguous(format),
                                              weight.contiguous(weight.suggest_memory_format()),
                                              padding_h, padding_w);
#else
  (void)padding_h;
  (void)padding_w;
  throw ModelError("Winograd convolution: this build has no oneDNN (SCENERY_WITH_ONEDNN off)");
#endif
}

bool FastConv2dImpl::plain_3x3() const {
  const auto& o = options;
  // ConvNd keeps its padding resolved here for every padding option (numbers,
  // "same", "valid"): {left, right, top, bottom}.
  const auto& pad = _reversed_padding_repeated_twice;
  return (*o.kernel_size())[0] == 3 && (*o.kernel_size())[1] == 3 &&
         (*o.stride())[0] == (*o.stride())[1] && (*o.dilation())[0] == 1 &&
         (*o.dilation())[1] == 1 && o.groups() == 1 && !o.bias() &&
         torch::enumtype::get_enum_name(o.padding_mode()) == std::string("kZeros") &&
         pad.size() == 4 && pad[0] == pad[1] && pad[2] == pad[3];
}

torch::Tensor FastConv2dImpl::forward(const torch::Tensor& input) {
  if (!is_training() || !plain_3x3()) return torch::nn::Conv2dImpl::forward(input);
  const auto& pad = _reversed_padding_repeated_twice;
  const int64_t stride = (*options.stride())[0];
  if (stride == 1 && winograd_applies(input, weight, pad[2], pad[0])) {
    return winograd_conv2d(input, weight, pad[2], pad[0]);
  }
  if (gemm_weight_grad_applies(input, weight)) {
    return conv2d_gemm_weight_grad(input, weight, stride, pad[2], pad[0]);
  }
  return torch::nn::Conv2dImpl::forward(input);
}

}  // namespace scenery::models
