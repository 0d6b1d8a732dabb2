// A c10d process group (Gloo or NCCL) formed from a resolved Launch, with the
// few collectives Scenery needs, each of which fails fast and says why.
//
//   auto group = dist::ProcessGroup::create(launch, device);
//   group->all_reduce(counts);                       // in place, sum
//   group->broadcast(tensors, /*root=*/0);
//
// Failure: every rank publishes a heartbeat (a counter and the sequence
// number of the collective it is in) to the store once a second from its own
// thread and store connection. When a collective fails (a peer closed its
// connection, or nothing arrived within dist.timeout), the heartbeats tell
// which rank is gone (its counter stopped) or which one is stuck (alive, but
// behind in the collective sequence), and DistError names it. Work done by
// others on the group (the Reducer inside backward) reports through
// `failure()`.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "distributed/c10d.h"
#include "distributed/launch.h"

namespace scenery::dist {

class ProcessGroup {
 public:
  // Blocks until every rank joined; DistError (naming host, port and the
  // missing ranks) when that does not happen within launch.timeout. `device`
  // picks NCCL under Backend::kAuto when it is CUDA and this LibTorch has NCCL.
  static std::shared_ptr<ProcessGroup> create(const Launch& launch, torch::Device device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return launch_.rank; }
  int world_size() const { return launch_.world_size; }
  int local_rank() const { return launch_.local_rank; }
  Backend backend() const { return backend_; }
  const Launch& launch() const { return launch_; }
  // Where collectives run: CPU for Gloo, cuda:local_rank for NCCL.
  torch::Device device() const { return device_; }
  const c10::intrusive_ptr<c10d::ProcessGroup>& c10d_group() const { return group_; }

  // In place; tensors on any device (copied to device() and back when needed).
  void all_reduce_sum(torch::Tensor& tensor);
  // Starts a sum all-reduce of a contiguous tensor on device() and returns at
  // once; wait() blocks until `tensor` holds the sum (and reports failures).
  class Pending {
   public:
    Pending() = default;
    void wait();
    bool active() const { return work_ != nullptr; }

   private:
    friend class ProcessGroup;
    ProcessGroup* group_ = nullptr;
    c10::intrusive_ptr<c10d::Work> work_;
    int64_t sequence_ = 0;
  };
  Pending all_reduce_sum_async(torch::Tensor& tensor);
  void all_reduce_max(torch::Tensor& tensor);
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  // Every rank's `tensor` (same shape and dtype everywhere), stacked: [W, ...].
  torch::Tensor all_gather(const torch::Tensor& tensor);
  // Every rank's bytes (any length), in rank order.
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  void barrier();

  // A DistError for a failure of work on this group (`what` names it), naming
  // the ranks the heartbeats show lost or stuck; `cause` is the c10d message.
  DistError failure(const std::string& what, const std::string& cause);

 private:
  ProcessGroup(Launch launch, Backend backend, torch::Device device);
  void start_heartbeat(c10::intrusive_ptr<c10d::Store> store);
  std::string diagnose();
  void run(const std::string& what, const std::function<void()>& collective);
  void reduce(torch::Tensor& tensor, c10d::ReduceOp op, const char* what);

  Launch launch_;
  Backend backend_;
  torch::Device device_;
  c10::intrusive_ptr<c10d::Store> store_;            // the main thread's connection
  c10::intrusive_ptr<c10d::Store> heartbeat_store_;  // the heartbeat thread's own
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  std::atomic<int64_t> sequence_{0};  // collectives entered by this rank
  std::atomic<bool> stop_{false};
  std::thread heartbeat_;
};

}  // namespace scenery::dist
