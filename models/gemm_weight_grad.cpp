#include "models/gemm_weight_grad.h"

#include <ATen/Parallel.h>
#include <fmt/core.h>
#include <fmt/format.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/error.h"
#include "models/autograd_apply.h"

#if SCENERY_HAVE_ONEDNN
#include <dnnl.hpp>

#include "models/onednn_engine.h"
#endif

namespace scenery::models {
namespace {

std::atomic<bool> g_gemm_wgrad_enabled{false};

constexpr int64_t kMinInputChannels = 128;

std::string describe_geometry(const torch::Tensor& input, const torch::Tensor& weight,
                              int64_t stride) {
  return fmt::format("input {}, weight {}, stride {}", fmt::join(input.sizes(), "x"),
                     fmt::join(weight.sizes(), "x"), stride);
}

#if SCENERY_HAVE_ONEDNN

using dnnl::memory;

constexpr int64_t kTaps = 9;  // 3x3

// dW (O x 9C) = dY^T (O x K) x columns (K x 9C), K = N * output pixels. The
// thread count belongs in the key: oneDNN splits the work for the count a
// primitive was built with.
using GemmKey = std::tuple<int64_t, int64_t, int64_t, int>;

struct Gemm {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

memory::desc matrix(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  return memory::desc({rows, cols}, memory::data_type::f32, {row_stride, col_stride});
}

const Gemm& gemm_for(const GemmKey& key) {
  static std::mutex mutex;
  static std::map<GemmKey, std::unique_ptr<Gemm>> gemms;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = gemms[key];
  if (!slot) {
    const auto [o, k, n, threads] = key;
    (void)threads;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // scratch from torch's allocator
    // dY is channels-last (K x O, row-major): read as its transpose.
    const auto dy = matrix(o, k, 1, o), columns = matrix(k, n, n, 1), dw = matrix(o, n, n, 1);
    // oneDNN 3 (Debian 13) builds primitive descriptors directly; 2.x (Debian 12)
    // from an operation descriptor.
#if DNNL_VERSION_MAJOR >= 3
    auto pd = dnnl::matmul::primitive_desc(onednn_cpu_engine(), dy, columns, dw, attr);
#else
    auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(dy, columns, dw), attr,
                                           onednn_cpu_engine());
#endif
    slot = std::make_unique<Gemm>(Gemm{pd, dnnl::matmul(pd)});
  }
  return *slot;
}

// Row r = (image, output y, output x) of the columns holds the 3x3 input
// neighbourhood of that output pixel, tap by tap, each tap C contiguous
// channels (the input is channels-last); taps in the padding are zeros.
torch::Tensor im2col(const torch::Tensor& input, int64_t stride, int64_t padding_h,
                     int64_t padding_w, int64_t out_h, int64_t out_w) {
  const int64_t n = input.size(0), c = input.size(1), h = input.size(2), w = input.size(3);
  const int64_t rows = n * out_h * out_w;
  auto columns = torch::empty({rows, kTaps * c}, input.options());
  const float* x = input.data_ptr<float>();
  float* out = columns.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t image = r / (out_h * out_w), oy = r / out_w % out_h, ox = r % out_w;
      float* row = out + r * kTaps * c;
      for (int64_t ky = 0; ky < 3; ++ky) {
        const int64_t iy = oy * stride + ky - padding_h;
        for (int64_t kx = 0; kx < 3; ++kx, row += c) {
          const int64_t ix = ox * stride + kx - padding_w;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
            std::memset(row, 0, c * sizeof(float));
          } else {
            std::memcpy(row, x + ((image * h + iy) * w + ix) * c, c * sizeof(float));
          }
        }
      }
    }
  });
  return columns;
}

torch::Tensor weight_gradient(const torch::Tensor& grad_output, const torch::Tensor& input,
                              int64_t stride, int64_t padding_h, int64_t padding_w) {
  const int64_t o = grad_output.size(1), c = input.size(1);
  const int64_t out_h = grad_output.size(2), out_w = grad_output.size(3);
  const auto columns = im2col(input, stride, padding_h, padding_w, out_h, out_w);
  const int64_t k = columns.size(0);
  // The key named first: GCC 14 takes a reference returned by a call with a temporary
  // argument for a dangling one (the GEMM lives in gemm_for's map).
  const GemmKey key{o, k, kTaps * c, at::get_num_threads()};
  const Gemm& gemm = gemm_for(key);
  // (O, ky, kx, C) row-major is the (O, C, 3, 3) parameter's channels-last layout.
  auto grad_weight = torch::empty({o, 3, 3, c}, input.options());
  auto scratch = torch::empty(
      {std::max<int64_t>(1, static_cast<int64_t>(gemm.pd.scratchpad_desc().get_size()))},
      torch::kUInt8);
  dnnl::stream stream(onednn_cpu_engine());
  gemm.primitive.execute(
      stream, {{DNNL_ARG_SRC,
                memory(gemm.pd.src_desc(), onednn_cpu_engine(), grad_output.data_ptr<float>())},
               {DNNL_ARG_WEIGHTS,
                memory(gemm.pd.weights_desc(), onednn_cpu_engine(), columns.data_ptr<float>())},
               {DNNL_ARG_DST,
                memory(gemm.pd.dst_desc(), onednn_cpu_engine(), grad_weight.data_ptr<float>())},
               {DNNL_ARG_SCRATCHPAD,
                memory(gemm.pd.scratchpad_desc(), onednn_cpu_engine(), scratch.data_ptr())}});
  stream.wait();
  return grad_weight.permute({0, 3, 1, 2});
}

class GemmWeightGradConv : public torch::autograd::Function<GemmWeightGradConv> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, int64_t stride, int64_t padding_h,
                               int64_t padding_w) {
    ctx->save_for_backward({input, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding_h"] = padding_h;
    ctx->saved_data["padding_w"] = padding_w;
    return at::convolution(input, weight, {}, {stride, stride}, {padding_h, padding_w}, {1, 1},
                           false, {0, 0}, 1);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t padding_h = ctx->saved_data["padding_h"].toInt();
    const int64_t padding_w = ctx->saved_data["padding_w"].toInt();
    const auto grad_output = grads[0].contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor grad_input, grad_weight;
    if (ctx->needs_input_grad(0)) {
      grad_input = std::get<0>(at::convolution_backward(
          grad_output, input, weight, c10::nullopt, {stride, stride}, {padding_h, padding_w},
          {1, 1}, false, {0, 0}, 1, {true, false, false}));
    }
    if (ctx->needs_input_grad(1)) {
      try {
        grad_weight = weight_gradient(grad_output, input, stride, padding_h, padding_w);
      } catch (const dnnl::error& e) {
        throw ModelError(fmt::format("GEMM weight gradient ({}): oneDNN failed: {}",
                                     describe_geometry(input, weight, stride), e.what()));
      }
    }
    return {grad_input, grad_weight, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

#endif  // SCENERY_HAVE_ONEDNN

bool shaped(const torch::Tensor& input, const torch::Tensor& weight) {
  return input.dim() == 4 && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 &&
         input.size(1) == weight.size(1);
}

}  // namespace

bool gemm_weight_grad_available() {
#if SCENERY_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

void set_gemm_weight_grad_training(bool enabled) {
  g_gemm_wgrad_enabled = enabled;
}

bool gemm_weight_grad_training_enabled() {
  return g_gemm_wgrad_enabled;
}

bool gemm_weight_grad_applies(const torch::Tensor& input, const torch::Tensor& weight) {
  if (!g_gemm_wgrad_enabled || !gemm_weight_grad_available() || !torch::GradMode::is_enabled() ||
      !weight.requires_grad() || !shaped(input, weight)) {
    return false;
  }
  return input.device().is_cpu() && weight.device().is_cpu() &&
         input.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat &&
         input.layout() == torch::kStrided && input.size(1) >= kMinInputChannels &&
         input.is_contiguous(torch::MemoryFormat::ChannelsLast);
}

torch::Tensor conv2d_gemm_weight_grad(const torch::Tensor& input, const torch::Tensor& weight,
                                      int64_t stride, int64_t padding_h, int64_t padding_w) {
  if (!shaped(input, weight) || stride < 1 || padding_h < 0 || padding_w < 0) {
    throw ModelError(fmt::format(
        "GEMM weight gradient: expected input (N, C, H, W), weight (O, C, 3, 3), stride >= 1 and "
        "padding >= 0, got {}, padding {}x{}",
        describe_geometry(input, weight, stride), padding_h, padding_w));
  }
#if SCENERY_HAVE_ONEDNN
  return autograd_apply<GemmWeightGradConv>(input.contiguous(torch::MemoryFormat::ChannelsLast),
                                            weight.contiguous(torch::MemoryFormat::ChannelsLast),
                                            stride, padding_h, padding_w);
#else
  throw ModelError("GEMM weight gradient: this build has no oneDNN (SCENERY_WITH_ONEDNN off)");
#endif
}

}  // namespace scenery::models
