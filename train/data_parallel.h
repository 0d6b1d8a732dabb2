// Data parallelism as the training loop sees it: a handful of seams, each a
// no-op in a single process, each a collective in a distributed one. This is
// PyTorch's DistributedDataParallel on c10d, for C++:
//
//   attach(model)          parameters and buffers checked equal in shape across
//                          ranks (a mismatch names the first differing
//                          parameter), then broadcast from rank 0; a
//                          c10d::Reducer over the trainable parameters
//                          (bucketed all-reduce overlapped with backward, the
//                          average over ranks); optionally synchronised BatchNorm
//   before_forward(sync)   DDP's forward prologue: buckets rebuilt in gradient
//                          order after the first step
//   propose(nonfinite, stop), agreement()
//                          one small all-reduce per micro-batch, started before
//                          backward and awaited after it (so it costs no extra
//                          synchronisation point): every rank learns which ranks
//                          saw a non-finite loss and whether any rank wants to
//                          stop, so all stop at one iteration, before any step
//                          applies a non-finite gradient
//   sync_buffers()         rank 0's buffers (BatchNorm running statistics) to
//                          every rank, before validation. PyTorch DDP broadcasts
//                          them before every forward; rank 0's own never depend
//                          on the other ranks', so validating and checkpointing
//                          with rank 0's after the broadcast is the same result
//                          with one synchronisation point less per step
//   backward(loss, sync)   loss.backward(); the gradients are averaged when
//                          `sync` (the last micro-batch of an accumulation
//                          group), left local otherwise (DDP's no_sync)
//   sum(tensor)            metric merge: integer meter state, loss totals
//
// Every rank must call the seams in the same order, which the loop does by
// construction (same batch counts: drop_last sharding, see data/sampler.h).
#pragma once

#include <memory>
#include <vector>

#include "distributed/launch.h"
#include "distributed/process_group.h"
#include "models/scene_model.h"

namespace scenery::train {

struct DataParallelOptions {
  bool sync_batchnorm = false;
  bool find_unused_parameters = false;  // a loss that leaves some parameters without gradient
  int64_t bucket_bytes = static_cast<int64_t>(dist::kDefaultBucketMb * 1024 * 1024);
  int64_t first_bucket_bytes = 1024 * 1024;  // and its first bucket: 1 MiB
};

class DataParallel {
 public:
  // `group` null: a single process, every seam does nothing.
  explicit DataParallel(std::shared_ptr<dist::ProcessGroup> group = nullptr,
                        DataParallelOptions options = {});
  ~DataParallel();

  bool distributed() const { return group_ != nullptr; }
  int rank() const { return group_ ? group_->rank() : 0; }
  int world_size() const { return group_ ? group_->world_size() : 1; }
  // The rank that writes checkpoints, metrics.csv, config and the main log.
  bool writer() const { return rank() == 0; }
  const std::shared_ptr<dist::ProcessGroup>& group() const { return group_; }

  // Call once, after the model is on its device, in its memory format and
  // (when resuming) loaded. The model must outlive this object.
  void attach(models::SceneModel& model);
  void before_forward(bool sync);

  struct Agreement {
    std::vector<int> nonfinite_ranks;  // ranks whose loss was NaN/inf
    bool stop = false;                 // some rank asked to stop
  };
  // propose() starts the exchange, agreement() waits for it; agree() does both.
  void propose(bool nonfinite, bool stop);
  Agreement agreement();
  Agreement agree(bool nonfinite, bool stop);
  void sync_buffers();

  void backward(const torch::Tensor& loss, bool sync);

  // Sum over ranks, in place (integer meter state, loss sums); identity alone.
  void sum(torch::Tensor& tensor);
  // Every rank's `tensor` stacked [W, ...]; alone: tensor.unsqueeze(0).
  torch::Tensor gather(const torch::Tensor& tensor);
  // Rank 0's tensors copied into every rank's (alone: nothing).
  void broadcast(std::vector<torch::Tensor>& tensors);

 private:
  void verify_shapes(const std::vector<std::string>& names,
                     const std::vector<torch::Tensor>& tensors);

  std::shared_ptr<dist::ProcessGroup> group_;
  DataParallelOptions options_;
  std::shared_ptr<torch::nn::Module> module_;  // kept alive: its BatchNorms hold our sync
  std::vector<torch::Tensor> buffers_;
  std::shared_ptr<c10d::Reducer> reducer_;
  bool local_nonfinite_ = false, local_stop_ = false;  // this rank's proposal
  torch::Tensor flags_;  // [2W]: non-finite per rank, stop per rank (distributed only)
  dist::ProcessGroup::Pending pending_flags_;
};

}  // namespace scenery::train
