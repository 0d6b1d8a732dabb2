// torch::optim::SGD with the update of each parameter fused into one pass.
//
// Why: torch::optim::SGD updates a parameter with four to five whole-tensor
// operations (weight decay, momentum scale, momentum add, step), each reading
// and writing the full tensor; for ResNet-18's 11 M parameters that is about
// 10 ms of a CPU training step spent streaming memory. One pass reads the
// gradient, parameter and momentum once and writes two of them.
//
// The arithmetic is torch's, operation for operation and with the same
// rounding (LibTorch's vectorised kernels compute `a.add(b, alpha)` as one
// fused multiply-add, so this does too), so results equal torch::optim::SGD's
// bit for bit on CPUs with FMA; the state (momentum_buffer) is SGD's own, so
// checkpoints and optimizer_state are unchanged. Parameters that are not dense
// float32 CPU tensors with gradients of the same layout take torch's
// operations instead.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace scenery::train {

class FusedSGD : public torch::optim::SGD {
 public:
  FusedSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups,
           torch::optim::SGDOptions defaults);
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  void update(torch::Tensor& parameter, const torch::optim::SGDOptions& options);
};

// Whether the fused path runs its vectorised FMA kernel here (x86-64 with
// AVX2 + FMA, or any aarch64); elsewhere it calls fmaf per element, slower
// but with the same results.
bool fused_sgd_vectorised();

}  // namespace scenery::train
