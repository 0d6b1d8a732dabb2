// Mixed precision and memory layout for the models: an RAII autocast scope
// (bf16, on GPU or CPU) over core/torch_compat.h, which hides the LibTorch
// 1.13 / 2.x API differences.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

// Enables bf16 autocast for `device`'s type while alive (no-op when `enabled`
// is false); restores the previous state and drops the cast cache on exit.
// bf16 rather than fp16: same exponent range as fp32, so no loss scaling.
class AutocastScope {
 public:
  AutocastScope(torch::Device device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  torch::DeviceType type_;
  bool enabled_;
};

}  // namespace scenery::models
