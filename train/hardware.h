// Device, precision and threading of a run (train.device, train.amp,
// train.channels_last, train.cudnn_benchmark, train.cpu_winograd,
// train.cpu_gemm_wgrad, train.threads).
#pragma once

#include <torch/torch.h>

#include "core/config.h"
#include "data/transforms.h"

namespace scenery::train {

struct Hardware {
  torch::Device device{torch::kCPU};
  bool bf16 = false;           // autocast to bfloat16 around forward passes
  bool channels_last = false;  // model and inputs in channels-last memory format
  int threads = 0;             // torch::set_num_threads; 0 = LibTorch's default
};

// Throws ConfigError for unknown values or cuda asked without a GPU. Applies
// the process-wide settings (threads, cuDNN benchmark, Winograd convolutions).
// `local_rank` picks the GPU (cuda:local_rank) of a data-parallel rank.
Hardware setup_hardware(const Config& config, int local_rank = 0);
// Registers the hardware options of [train] (device, threads, amp,
// channels_last, cudnn_benchmark, cpu_winograd, cpu_gemm_wgrad).
void add_hardware_options(Config& config);

// Autocast on for the scope when `hw.bf16` (forward passes only).
class AutocastScope {
 public:
  explicit AutocastScope(const Hardware& hw);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  const Hardware& hw_;
};

// Moves a batch tensor to the device (channels-last for 4-d float inputs when asked).
torch::Tensor to_device(const torch::Tensor& t, const Hardware& hw);

// A batch's images ready for the model: uint8 pixels (the trainer's loaders
// collate those) are moved as bytes and normalised on the device; float
// images are only moved. Channels-last when asked. `erase` (Batch::erase):
// the random-erasing boxes of uint8 batches, applied after normalising.
torch::Tensor images_to_device(const torch::Tensor& images, const Hardware& hw,
                               const data::NormalizeParams& normalize,
                               const torch::Tensor& erase = {});

}  // namespace scenery::train
