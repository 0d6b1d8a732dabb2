// Synchronised BatchNorm against the definition: split a batch over ranks
// (threads here, summing through a tiny in-process hub) and the forward, the
// input gradient, the summed weight/bias gradients and the running statistics
// must be those of torch's BatchNorm2d on the whole batch.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "models/batch_norm.h"
#include "models/registry.h"

namespace scenery::models {
namespace {

// all_reduce_sum across `world` threads: every thread adds the same slots in
// rank order, so all get the same bits.
class Hub {
 public:
  explicit Hub(int world) : world_(world), slots_(world) {}
  void sum(int rank, torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    slots_[rank] = t.clone();
    if (++arrived_ == world_) {
      auto total = slots_[0].clone();
      for (int r = 1; r < world_; ++r)
        total += slots_[r];
      result_ = total;
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
    t.copy_(result_);
  }

 private:
  int world_;
  std::vector<torch::Tensor> slots_;
  torch::Tensor result_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
};

class HubSync : public BatchNormSync {
 public:
  HubSync(Hub& hub, int rank, int world) : hub_(hub), rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  void all_reduce_sum(torch::Tensor& t) override { hub_.sum(rank_, t); }

 private:
  Hub& hub_;
  int rank_, world_;
};

struct Result {
  torch::Tensor y, dx, dweight, dbias, running_mean, running_var;
};

Result reference(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& w,
                 const torch::Tensor& b) {
  torch::nn::BatchNorm2d bn(x.size(1));
  {
    torch::NoGradGuard g;
    bn->weight.copy_(w);
    bn->bias.copy_(b);
  }
  auto xi = x.clone().requires_grad_(true);
  auto y = bn(xi);
  (y * r).sum().backward();
  return {y.detach(),      xi.grad(),        bn->weight.grad(),
          bn->bias.grad(), bn->running_mean, bn->running_var};
}

// Ranks take `sizes` consecutive samples each.
Result synchronised(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& w,
                    const torch::Tensor& b, const std::vector<int64_t>& sizes) {
  const int world = static_cast<int>(sizes.size());
  Hub hub(world);
  std::vector<std::future<Result>> ranks;
  int64_t start = 0;
  for (int rank = 0; rank < world; ++rank) {
    const int64_t begin = start, n = sizes[rank];
    start += n;
    ranks.push_back(std::async(std::launch::async, [&, rank, begin, n] {
      BatchNorm2d bn(x.size(1));
      {
        torch::NoGradGuard g;
        bn->weight.copy_(w);
        bn->bias.copy_(b);
      }
      set_batchnorm_sync(*bn, std::make_shared<HubSync>(hub, rank, world));
      auto xi = x.narrow(0, begin, n).clone().requires_grad_(true);
      auto y = bn(xi);
      (y * r.narrow(0, begin, n)).sum().backward();
      return Result{y.detach(),      xi.grad(),        bn->weight.grad(),
                    bn->bias.grad(), bn->running_mean, bn->running_var};
    }));
  }
  Result out;
  std::vector<torch::Tensor> ys, dxs;
  for (int rank = 0; rank < world; ++rank) {
    Result part = ranks[rank].get();
    ys.push_back(part.y);
    dxs.push_back(part.dx.defined() ? part.dx : torch::zeros_like(part.y));
    out.dweight = rank == 0 ? part.dweight : out.dweight + part.dweight;
    out.dbias = rank == 0 ? part.dbias : out.dbias + part.dbias;
    if (rank > 0) {
      // Every rank keeps the same running statistics.
      EXPECT_TRUE(torch::equal(part.running_mean, out.running_mean));
      EXPECT_TRUE(torch::equal(part.running_var, out.running_var));
    }
    out.running_mean = part.running_mean;
    out.running_var = part.running_var;
  }
  out.y = torch::cat(ys);
  out.dx = torch::cat(dxs);
  return out;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  const double scale = std::max(1e-6, b.abs().max().item<double>());
  const double err = (a - b).abs().max().item<double>() / scale;
  EXPECT_LT(err, 2e-5) << what << " relative error " << err;
}

class SyncBatchNorm : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(SyncBatchNorm, EqualsBatchNormOnTheWholeBatch) {
  torch::manual_seed(7);
  const auto x = torch::randn({8, 6, 5, 7}) * 3 + 1;
  const auto r = torch::randn({8, 6, 5, 7});
  const auto w = torch::rand({6}) + 0.5;
  const auto b = torch::randn({6});
  const Result want = reference(x, r, w, b);
  const Result got = synchronised(x, r, w, b, GetParam());
  expect_close(got.y, want.y, "output");
  expect_close(got.dx, want.dx, "input gradient");
  expect_close(got.dweight, want.dweight, "weight gradient (summed over ranks)");
  expect_close(got.dbias, want.dbias, "bias gradient (summed over ranks)");
  expect_close(got.running_mean, want.running_mean, "running mean");
  expect_close(got.running_var, want.running_var, "running variance (unbiased, global count)");
}

INSTANTIATE_TEST_SUITE_P(Splits, SyncBatchNorm,
                         ::testing::Values(std::vector<int64_t>{4, 4}, std::vector<int64_t>{3, 5},
                                           std::vector<int64_t>{2, 2, 2, 2},
                                           // A rank with an empty batch counts 0.
                                           std::vector<int64_t>{8, 0}));

TEST(SyncBatchNormModule, ChannelsLastAndEvalModeAreTorchsBatchNorm) {
  torch::manual_seed(3);
  const auto x = torch::randn({4, 8, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  torch::nn::BatchNorm2d ref(8);
  BatchNorm2d ours(8);
  // Without a sync: bit for bit torch's, in training and eval.
  EXPECT_TRUE(torch::equal(ref(x), ours(x)));
  EXPECT_TRUE(torch::equal(ref->running_mean, ours->running_mean));
  EXPECT_EQ(ref->num_batches_tracked.item<int64_t>(), ours->num_batches_tracked.item<int64_t>());
  ref->eval();
  ours->eval();
  EXPECT_TRUE(torch::equal(ref(x), ours(x)));
  // The same parameter and buffer names as torch's (weights move by name).
  std::vector<std::string> a, b;
  for (const auto& p : ref->named_parameters())
    a.push_back(p.key());
  for (const auto& p : ref->named_buffers())
    a.push_back(p.key());
  for (const auto& p : ours->named_parameters())
    b.push_back(p.key());
  for (const auto& p : ours->named_buffers())
    b.push_back(p.key());
  EXPECT_EQ(a, b);
}

TEST(SyncBatchNormModule, EveryRegisteredArchitectureCanSynchronise) {
  for (const auto& arch : model_registry().names()) {
    auto model = create_model(arch, 10);
    EXPECT_TRUE(unsynchronisable_batchnorms(model.module()).empty()) << arch;
  }
}

}  // namespace
}  // namespace scenery::models
