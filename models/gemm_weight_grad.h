// Training-time weight gradients of 3x3 convolutions as one matrix product
// (oneDNN matmul) over im2col columns, for the convolutions the Winograd path
// (models/winograd_conv.h) leaves to LibTorch's direct kernels.
//
// Why: oneDNN 2.6's direct backward-weights kernel is the slowest pass of a
// CPU training step where maps are small and channels many (ResNet layer4 at
// 112-160 px, 4x4 or 5x5 maps; the stride-2 3x3 convolutions): on one thread
// it ran at about half the speed of the forward pass of the same convolution,
// and its gradient comes out in a blocked layout that is reordered twice more
// on the way to the channels-last parameter. dW = dY^T x im2col(X), written
// straight into the parameter's channels-last layout, does the same
// arithmetic with oneDNN's GEMM kernels. Measured in ResNet-18 training at
// 112 px on this project's 2-core AVX-512 machine: see the README's CPU notes.
//
// Only the weight gradient changes: the forward pass and the input gradient
// are LibTorch's own calls, bit for bit. The weight gradient agrees with the
// direct kernel to float rounding (a different summation order), so, as with
// Winograd, the path is used only while training, only when switched on
// (scenery-train's `train.cpu_gemm_wgrad`), and by a fixed rule of the shapes,
// never timed: a run and its resumed twin take identical paths.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace scenery::models {

// Built with oneDNN (the matmul kernels run on any x86-64 CPU).
bool gemm_weight_grad_available();

// Process-wide switch, off by default, like set_winograd_training.
void set_gemm_weight_grad_training(bool enabled);
bool gemm_weight_grad_training_enabled();

// Whether a 3x3, undilated, ungrouped, unbiased convolution of `input`
// (N, C, H, W) by `weight` (O, C, 3, 3) with equal strides takes this path:
// switched on and available, float32 CPU tensors, a channels-last input (what
// training with train.channels_last feeds), grad mode on and a weight that
// wants a gradient, and at least kMinInputChannels input channels (with fewer,
// the columns are long and thin and the direct kernel was as fast).
bool gemm_weight_grad_applies(const torch::Tensor& input, const torch::Tensor& weight);

// The convolution, differentiable in input and weight. The output and the
// input gradient are at::convolution's and at::convolution_backward's; the
// weight gradient is the matrix product, channels-last. Throws ModelError on
// shapes it does not take or when oneDNN fails (naming the geometry).
torch::Tensor conv2d_gemm_weight_grad(const torch::Tensor& input, const torch::Tensor& weight,
                                      int64_t stride, int64_t padding_h, int64_t padding_w);

}  // namespace scenery::models
