// Channels-last and bf16 autocast: the fast paths give the same (channels-last)
// or close (bf16) answers, and a training step runs under both.
#include <gtest/gtest.h>

#include "core/torch_compat.h"
#include "models/models_test_util.h"
#include "models/precision.h"
#include "models/registry.h"

namespace scenery::models {
namespace {
using testutil::params_of;

// One SGD step; returns the loss.
torch::Tensor train_step(SceneModel& m, const torch::Tensor& x, const torch::Tensor& y,
                         bool autocast) {
  torch::optim::SGD sgd(params_of(m), torch::optim::SGDOptions(0.1).momentum(0.9));
  m.train();
  sgd.zero_grad();
  torch::Tensor loss;
  {
    AutocastScope scope(x.device(), autocast);
    loss = torch::nn::functional::cross_entropy(m.forward(x).logits.to(torch::kFloat), y);
  }
  loss.backward();
  sgd.step();
  return loss.detach();
}

TEST(SpeedModes, ChannelsLastTrainStepMatchesContiguous) {
  torch::manual_seed(0);
  auto a = create_model("resnet18", 4);
  auto b = create_model("resnet18", 4);
  testutil::copy_parameters(a, b);
  b.to_channels_last();
  auto x = torch::randn({2, 3, 64, 64});
  auto y = torch::tensor({1, 3});
  train_step(a, x, y, false);
  train_step(b, x.contiguous(torch::MemoryFormat::ChannelsLast), y, false);
  auto pb = b.named_parameters();
  for (const auto& p : a.named_parameters()) {
    EXPECT_LT((p.value() - pb[p.key()]).abs().max().item<float>(), 1e-4) << p.key();
  }
}

TEST(SpeedModes, Bf16AutocastOnCpuStaysCloseToFloat32AndRestoresState) {
  torch::manual_seed(0);
  auto m = create_model("resnet18", 10);
  m.eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 3, 64, 64});
  auto ref = m.forward(x).logits;
  torch::Tensor low;
  {
    AutocastScope scope(torch::kCPU, true);
    low = m.forward(x).logits;
  }
  EXPECT_EQ(low.scalar_type(), torch::kBFloat16);  // the fc ran in bf16
  const float scale = ref.abs().max().item<float>();
  EXPECT_LT((low.to(torch::kFloat) - ref).abs().max().item<float>(), 0.05f * scale + 0.05f);
  // Out of the scope, float32 again.
  EXPECT_EQ(m.forward(x).logits.scalar_type(), torch::kFloat);
}

TEST(SpeedModes, TwoBranchAndParsingTrainUnderAutocastAndChannelsLast) {
  torch::manual_seed(0);
  auto s = create_model("sascene_resnet18", 3);
  s.to_channels_last();
  torch::optim::SGD sgd(params_of(s), torch::optim::SGDOptions(0.01));
  s.train();
  torch::Tensor loss;
  {
    AutocastScope scope(torch::kCPU, true);
    auto out =
        s.forward(torch::randn({2, 3, 160, 160}).contiguous(torch::MemoryFormat::ChannelsLast),
                  torch::rand({2, 152, 160, 160}));
    auto y = torch::tensor({0, 2});
    namespace F = torch::nn::functional;
    loss = F::cross_entropy(out.logits.to(torch::kFloat), y) +
           F::cross_entropy(out.rgb_logits.to(torch::kFloat), y) +
           F::cross_entropy(out.sem_logits.to(torch::kFloat), y);
  }
  loss.backward();
  sgd.step();
  EXPECT_TRUE(torch::isfinite(loss).item<bool>());

  auto p = create_model("parsing_resnet18dilated_ppm", 150);
  p.to_channels_last();
  torch::optim::SGD psgd(params_of(p), torch::optim::SGDOptions(0.01));
  p.train();
  torch::Tensor ploss;
  {
    AutocastScope scope(torch::kCPU, true);
    auto out =
        p.forward(torch::randn({2, 3, 64, 64}).contiguous(torch::MemoryFormat::ChannelsLast));
    auto target = torch::randint(150, {2, 64, 64}, torch::kLong);
    namespace F = torch::nn::functional;
    // CSAIL's recipe: main loss + 0.4 x deep-supervision loss.
    ploss = F::cross_entropy(out.logits.to(torch::kFloat), target) +
            0.4 * F::cross_entropy(out.aux_logits.to(torch::kFloat), target);
  }
  ploss.backward();
  psgd.step();
  EXPECT_TRUE(torch::isfinite(ploss).item<bool>());
}

TEST(CudaOnly, TrainStepUnderBf16AutocastChannelsLastOnGpu) {
  if (!compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  auto m = create_model("resnet50", 10);
  m.to(torch::kCUDA);
  m.to_channels_last();
  auto x =
      torch::randn({4, 3, 128, 128}, torch::kCUDA).contiguous(torch::MemoryFormat::ChannelsLast);
  auto y = torch::tensor({1, 2, 3, 4}, torch::TensorOptions(torch::kLong).device(torch::kCUDA));
  auto loss = train_step(m, x, y, true);
  EXPECT_TRUE(torch::isfinite(loss).item<bool>());
}

}  // namespace
}  // namespace scenery::models
