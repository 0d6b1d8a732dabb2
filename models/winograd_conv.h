// Training-time 3x3 convolutions through oneDNN's Winograd F(4x4, 3x3) kernels.
//
// Why: on CPU, LibTorch always asks oneDNN for *direct* convolution. For the
// 3x3 stride-1 convolutions that hold most of a ResNet's arithmetic, Winograd
// computes the same result with a quarter of the multiplications. On this
// project's AVX-512 build machine, forward + both backward passes measured
// 1.8x faster at 64 channels x 28 px, 1.5x at 128 x 14, 1.1x at 256 x 7, and
// slower at 512 x 4 (hence the size rule in `winograd_applies`).
//
// It is the CPU counterpart of cuDNN autotuning picking Winograd on a GPU: the
// result agrees with direct convolution to float rounding (about 1e-6 relative),
// not bit for bit. So it is used only where it cannot change a reported number:
//  - only while training (module in training mode, grad mode on); evaluation and
//    validation keep LibTorch's direct kernels and the exact official numbers;
//  - only when switched on (scenery-train's `train.cpu_winograd`, on by default);
//  - the choice is a fixed rule of the shapes, never timed, so two runs with
//    the same thread count take identical paths and an interrupted-and-resumed
//    run still ends with the uninterrupted run's weights.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace scenery::models {

// Built with oneDNN and the CPU has the kernels (oneDNN 2.x has f32 Winograd
// for AVX-512 only). Probed once.
bool winograd_available();

// Process-wide switch, off by default: the models alone compute exactly what
// torchvision does. Turning it on where `winograd_available()` is false is
// harmless: every convolution then keeps the direct path.
void set_winograd_training(bool enabled);
bool winograd_training_enabled();

// Whether an unbiased, ungrouped, undilated stride-1 convolution of `input`
// (N, C, H, W) by `weight` (O, C, 3, 3) with the given zero padding takes the
// Winograd path: switched on and available, float32 CPU tensors, grad mode on
// and a weight that wants a gradient, C and O multiples of 16 (the kernels'
// channel blocking), and an output of at least 7 x 7 (smaller maps have too
// few 4x4 tiles to repay the transforms).
bool winograd_applies(const torch::Tensor& input, const torch::Tensor& weight, int64_t padding_h,
                      int64_t padding_w);

// The convolution (no bias), differentiable in input and weight. Throws
// ModelError when oneDNN cannot run this geometry. The output has the input's
// memory format (channels-last in, channels-last out).
torch::Tensor winograd_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                              int64_t padding_h, int64_t padding_w);

// torch::nn::Conv2d whose forward, while the module is training, takes the
// Winograd path where `winograd_applies`, else the GEMM weight-gradient path
// where `gemm_weight_grad_applies` (models/gemm_weight_grad.h), else LibTorch's. Same
// parameters and names as torch::nn::Conv2d, so weights move by name.
class FastConv2dImpl : public torch::nn::Conv2dImpl {
 public:
  using torch::nn::Conv2dImpl::Conv2dImpl;
  torch::Tensor forward(const torch::Tensor& input);

 private:
  // 3x3, equal strides, no dilation, groups or bias, symmetric zero padding.
  bool plain_3x3() const;
};
TORCH_MODULE(FastConv2d);

}  // namespace scenery::models
