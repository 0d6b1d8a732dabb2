// BatchNorm2d that can synchronise its statistics across data-parallel ranks
// (PyTorch's SyncBatchNorm, which C++ does not have and Python's 1.13 refuses
// on CPU).
//
// models::BatchNorm2d is torch::nn::BatchNorm2d (the same base class, options,
// parameters and buffer names, so torchvision weights load by name; it derives
// from NormImplBase because BatchNorm2dImpl's printing is not exported from
// libtorch for derived classes) plus one switch: given a
// BatchNormSync, a forward in training mode normalises with the mean and
// variance of the GLOBAL batch (every rank's samples), updates the running
// statistics with them (unbiased variance over the global count), and its
// backward all-reduces sum(dy) and sum(dy * (x - mean)) so the input
// gradient is the one of the global batch. The weight and bias gradients stay
// local: the data-parallel gradient reduction averages them like any other.
// In eval mode, or without a sync, it is exactly torch's BatchNorm2d.
//
// Each rank's contribution is (mean, biased variance, count), combined in
// double precision (the parallel-variance formula), so a rank with an empty
// batch simply counts 0, as in PyTorch's batch_norm_gather_stats_with_counts.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace scenery::models {

// What synchronised BatchNorm needs from a process group; train/ implements it
// over dist::ProcessGroup, tests over threads. Every rank must call
// all_reduce_sum the same number of times, in the same order.
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;  // in place, CPU or device tensor
};

class BatchNorm2dImpl
    : public torch::nn::NormImplBase<2, BatchNorm2dImpl, torch::nn::BatchNormOptions> {
 public:
  explicit BatchNorm2dImpl(int64_t num_features)
      : BatchNorm2dImpl(torch::nn::BatchNormOptions(num_features)) {}
  explicit BatchNorm2dImpl(const torch::nn::BatchNormOptions& options) : NormImplBase(options) {}
  torch::Tensor forward(const torch::Tensor& input);
  void set_sync(std::shared_ptr<BatchNormSync> sync) { sync_ = std::move(sync); }
  bool synchronised() const { return sync_ != nullptr; }
  void pretty_print(std::ostream& stream) const override;

 protected:
  void _check_input_dim(const torch::Tensor& input) override;

 private:
  std::shared_ptr<BatchNormSync> sync_;
};
TORCH_MODULE(BatchNorm2d);

// Gives every models::BatchNorm2d inside `module` the sync (nullptr: back to
// local statistics). Returns how many there are.
int64_t set_batchnorm_sync(torch::nn::Module& module, const std::shared_ptr<BatchNormSync>& sync);

// torch::nn::BatchNorm2d modules that are not models::BatchNorm2d, by name:
// they could not synchronise (empty for every registered architecture).
std::vector<std::string> unsynchronisable_batchnorms(torch::nn::Module& module);

}  // namespace scenery::models
