#include "train/data_parallel.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "distributed/collectives.h"
#include "models/batch_norm.h"

namespace scenery::train {
namespace {

// PyTorch's _sync_module_states buffer size for coalesced broadcasts.
constexpr size_t kBroadcastBytes = 250u * 1024 * 1024;
constexpr int kMaxDims = 6;

class GroupBatchNormSync : public models::BatchNormSync {
 public:
  explicit GroupBatchNormSync(std::shared_ptr<dist::ProcessGroup> group)
      : group_(std::move(group)) {}
  int rank() const override { return group_->rank(); }
  int world_size() const override { return group_->world_size(); }
  void all_reduce_sum(torch::Tensor& t) override { group_->all_reduce_sum(t); }

 private:
  std::shared_ptr<dist::ProcessGroup> group_;
};

std::string shape_text(const torch::Tensor& descriptor) {
  std::vector<int64_t> dims;
  const auto d = descriptor.accessor<int64_t, 1>();
  for (int64_t i = 0; i < d[0]; ++i)
    dims.push_back(d[1 + i]);
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

torch::Tensor shape_descriptor(const torch::Tensor& t) {
  auto d = torch::full({kMaxDims + 1}, -1, torch::kInt64);
  d[0] = std::min<int64_t>(t.dim(), kMaxDims);
  for (int64_t i = 0; i < std::min<int64_t>(t.dim(), kMaxDims); ++i)
    d[1 + i] = t.size(i);
  return d;
}

bool looks_distributed(const std::string& message) {
  for (const char* word : {"Gloo", "gloo", "NCCL", "Connection", "connection", "Timed out",
                           "timed out", "timeout", "peer"}) {
    if (message.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

DataParallel::DataParallel(std::shared_ptr<dist::ProcessGroup> group, DataParallelOptions options)
    : group_(std::move(group)), options_(options) {}

DataParallel::~DataParallel() {
  // The Reducer holds autograd hooks on the model's parameters: drop it first.
  reducer_.reset();
  if (module_) models::set_batchnorm_sync(*module_, nullptr);
}

void DataParallel::verify_shapes(const std::vector<std::string>& names,
                                 const std::vector<torch::Tensor>& tensors) {
  // Rank 0's shape descriptors go to every rank; each compares its own, the
  // lowest differing index is agreed on, and every rank's shape there is
  // gathered, so every rank's error names the same tensor and all the shapes.
  const int64_t mine = static_cast<int64_t>(tensors.size());
  const auto counts = group_->all_gather(torch::tensor({mine}, torch::kInt64));
  const int64_t theirs = counts[0][0].item<int64_t>();
  const auto absent = torch::full({kMaxDims + 1}, -2, torch::kInt64);
  std::vector<torch::Tensor> descriptors;
  for (int64_t i = 0; i < theirs; ++i)
    descriptors.push_back(i < mine ? shape_descriptor(tensors[i]) : absent);
  std::vector<torch::Tensor> zero{descriptors.empty()
                                      ? torch::zeros({0, kMaxDims + 1}, torch::kInt64)
                                      : torch::stack(descriptors)};
  const auto local = zero[0].clone();
  group_->broadcast(zero);
  int64_t first = std::numeric_limits<int64_t>::max();
  for (int64_t i = 0; i < std::min(theirs, mine); ++i) {
    if (!torch::equal(local[i], zero[0][i])) {
      first = i;
      break;
    }
  }
  if (first == std::numeric_limits<int64_t>::max() && theirs != mine)
    first = std::min(theirs, mine);
  auto agreed = torch::tensor({-first}, torch::kInt64);  // max of -index = min index
  group_->all_reduce_max(agreed);
  const int64_t index = -agreed.item<int64_t>();
  if (index == std::numeric_limits<int64_t>::max()) return;
  const auto shapes = group_->all_gather(index < mine ? shape_descriptor(tensors[index]) : absent);
  std::vector<std::string> per_rank;
  for (int r = 0; r < world_size(); ++r) {
    const auto d = shapes[r];
    per_rank.push_back(
        fmt::format("rank {}: {} ({} tensors)", r,
                    d[0].item<int64_t>() == -2 ? std::string("absent") : shape_text(d),
                    counts[r][0].item<int64_t>()));
  }
  throw ConfigError(fmt::format(
      "rank {} of {}: the model differs across ranks from tensor #{} on ('{}' here): {}; every "
      "rank must run the same model.arch and model.num_classes",
      rank(), world_size(), index, index < mine ? names[index] : std::string("none"),
      fmt::join(per_rank, ", ")));
}

void DataParallel::attach(models::SceneModel& model) {
  if (!group_) return;
  module_ = model.module_ptr();
  std::vector<std::string> names;
  std::vector<torch::Tensor> state;
  for (const auto& item : model.state_dict()) {
    names.push_back(item.key());
    state.push_back(item.value());
  }
  verify_shapes(names, state);
  try {
    torch::NoGradGuard no_grad;
    c10d::broadcast_coalesced(group_->c10d_group(), state, kBroadcastBytes, 0);
  } catch (const std::exception& e) {
    throw group_->failure("broadcasting rank 0's parameters and buffers", e.what());
  }
  for (const auto& item : model.named_buffers())
    buffers_.push_back(item.value());

  if (options_.sync_batchnorm) {
    const auto n =
        models::set_batchnorm_sync(model.module(), std::make_shared<GroupBatchNormSync>(group_));
    const auto left = models::unsynchronisable_batchnorms(model.module());
    if (!left.empty()) {
      throw ModelError(fmt::format("train.sync_bn: {} BatchNorm layers cannot synchronise ({})",
                                   left.size(), fmt::join(left, ", ")));
    }
    log::info("synchronised BatchNorm: {} layers normalise over the global batch", n);
  }

  std::vector<torch::Tensor> params;
  std::unordered_map<size_t, std::string> param_names;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    param_names[params.size()] = item.key();
    params.push_back(item.value());
  }
  // DDP's assignment: buckets by size over the parameters in reverse order
  // (gradients arrive roughly last layer first), rebuilt in the observed
  // gradient order after the first iteration.
  auto [buckets, limits] =
      c10d::compute_bucket_assignment_by_size(params,
                                              {static_cast<size_t>(options_.first_bucket_bytes),
                                               static_cast<size_t>(options_.bucket_bytes)},
                                              std::vector<bool>(params.size(), false));
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  reducer_ = dist::make_reducer(params, buckets, limits, group_->c10d_group(),
                                options_.bucket_bytes, options_.first_bucket_bytes,
                                options_.find_unused_parameters, std::move(param_names));
  log::info("data parallel: {} ranks, {} parameter tensors in {} buckets ({} MiB cap), {}",
            world_size(), params.size(), buckets.size(), options_.bucket_bytes >> 20,
            dist::backend_name(group_->backend()));
}

void DataParallel::before_forward(bool sync) {
  if (!group_ || !reducer_) return;
  try {
    if (sync && torch::GradMode::is_enabled()) {
      reducer_->rebuild_buckets();
      reducer_->prepare_for_forward();
    }
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    throw group_->failure("the forward prologue (bucket rebuild)", e.what());
  }
}

void DataParallel::sync_buffers() {
  if (!group_ || buffers_.empty()) return;
  try {
    torch::NoGradGuard no_grad;
    c10d::broadcast_coalesced(group_->c10d_group(), buffers_, kBroadcastBytes, 0);
  } catch (const std::exception& e) {
    throw group_->failure("broadcasting rank 0's buffers", e.what());
  }
}

void DataParallel::propose(bool nonfinite, bool stop) {
  local_nonfinite_ = nonfinite;
  local_stop_ = stop;
  if (!group_) return;
  const int w = world_size();
  flags_ = torch::zeros({2 * w}, torch::kInt64);
  flags_[rank()] = nonfinite ? 1 : 0;
  flags_[w + rank()] = stop ? 1 : 0;
  if (group_->device() != flags_.device()) flags_ = flags_.to(group_->device());
  pending_flags_ = group_->all_reduce_sum_async(flags_);
}

DataParallel::Agreement DataParallel::agreement() {
  Agreement a;
  if (!group_) {
    if (local_nonfinite_) a.nonfinite_ranks.push_back(0);
    a.stop = local_stop_;
    return a;
  }
  pending_flags_.wait();
  const int w = world_size();
  const auto flags = flags_.to(torch::kCPU);
  const auto f = flags.accessor<int64_t, 1>();
  for (int r = 0; r < w; ++r) {
    if (f[r]) a.nonfinite_ranks.push_back(r);
    if (f[w + r]) a.stop = true;
  }
  return a;
}

DataParallel::Agreement DataParallel::agree(bool nonfinite, bool stop) {
  propose(nonfinite, stop);
  return agreement();
}

void DataParallel::backward(const torch::Tensor& loss, bool sync) {
  if (!group_ || !reducer_) {
    loss.backward();
    return;
  }
  try {
    if (sync) {
      reducer_->prepare_for_backward(options_.find_unused_parameters
                                         ? std::vector<torch::Tensor>{loss}
                                         : std::vector<torch::Tensor>{});
    }
    loss.backward();
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    if (!looks_distributed(e.what())) throw;
    throw group_->failure("the gradient all-reduce in backward", e.what());
  }
}

void DataParallel::sum(torch::Tensor& tensor) {
  dist::sum_over_ranks(tensor, group_.get());
}

torch::Tensor DataParallel::gather(const torch::Tensor& tensor) {
  return dist::gather_over_ranks(tensor, group_.get());
}

void DataParallel::broadcast(std::vector<torch::Tensor>& tensors) {
  dist::broadcast_from_rank0(tensors, group_.get());
}

}  // namespace scenery::train
