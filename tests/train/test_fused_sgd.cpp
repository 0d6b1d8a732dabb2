// FusedSGD against torch::optim::SGD itself: the same parameters and momentum
// buffers, bit for bit on CPUs with FMA (LibTorch's kernels fuse each
// add-with-alpha too), for every option combination and layout.
#include <gtest/gtest.h>

#include "models/optimizer_state.h"
#include "train/fused_sgd.h"

namespace scenery::train {
namespace {

namespace optim = torch::optim;

struct Case {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  const char* name;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// Odd sizes leave vector-loop tails; a channels-last 4-d tensor checks the
// layout is followed, not assumed.
std::vector<torch::Tensor> make_params() {
  torch::manual_seed(7);
  return {torch::randn({7}), torch::randn({1000, 5}),
          torch::randn({64, 3, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast),
          torch::randn({70001})};
}

void expect_same(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  if (fused_sgd_vectorised()) {
    EXPECT_TRUE(torch::equal(got, want))
        << what << ": max diff " << (got - want).abs().max().item<double>();
  } else {
    EXPECT_TRUE(torch::allclose(got, want, 1e-6, 1e-7)) << what;
  }
}

class FusedSgdMatchesTorch : public ::testing::TestWithParam<Case> {};

TEST_P(FusedSgdMatchesTorch, ParametersAndMomentumAfterThreeSteps) {
  const Case c = GetParam();
  auto ours = make_params();
  std::vector<torch::Tensor> theirs;
  for (auto& p : ours) {
    theirs.push_back(p.clone().requires_grad_(true));
    p.requires_grad_(true);
  }
  const auto options = optim::SGDOptions(c.lr)
                           .momentum(c.momentum)
                           .dampening(c.dampening)
                           .weight_decay(c.weight_decay)
                           .nesterov(c.nesterov);
  FusedSGD fused({optim::OptimizerParamGroup(ours)}, options);
  optim::SGD reference({optim::OptimizerParamGroup(theirs)}, options);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < ours.size(); ++i) {
      const auto g = torch::randn_like(ours[i]);
      ours[i].mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
    fused.step();
    reference.step();
  }
  models::StateDict named_ours, named_theirs;
  for (size_t i = 0; i < ours.size(); ++i) {
    expect_same(ours[i].detach(), theirs[i].detach(), "parameter " + std::to_string(i));
    named_ours.insert("p" + std::to_string(i), ours[i]);
    named_theirs.insert("p" + std::to_string(i), theirs[i]);
  }
  // The state is SGD's own: it exports (and would checkpoint) the same.
  const auto state_ours = models::export_optimizer_state(fused, named_ours);
  const auto state_theirs = models::export_optimizer_state(reference, named_theirs);
  ASSERT_EQ(state_ours.size(), state_theirs.size());
  for (const auto& [name, slots] : state_theirs) {
    ASSERT_TRUE(state_ours.count(name)) << name;
    for (const auto& [slot, value] : slots) {
      ASSERT_TRUE(state_ours.at(name).count(slot)) << name << "." << slot;
      expect_same(state_ours.at(name).at(slot), value, name + "." + slot);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Options, FusedSgdMatchesTorch,
                         ::testing::Values(Case{0.1, 0.9, 0, 1e-4, false, "MomentumAndDecay"},
                                           Case{0.05, 0.9, 0, 5e-4, true, "Nesterov"},
                                           Case{0.01, 0.8, 0.3, 1e-3, false, "Dampening"},
                                           Case{0.1, 0, 0, 1e-4, false, "NoMomentum"},
                                           Case{0.1, 0.9, 0, 0, false, "NoDecay"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FusedSgd, RestoredContiguousMomentumFollowsAChannelsLastParameter) {
  auto p = torch::randn({8, 4, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto q = p.clone();
  p.requires_grad_(true);
  q.requires_grad_(true);
  const auto options = optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4);
  FusedSGD fused({optim::OptimizerParamGroup({p})}, options);
  optim::SGD reference({optim::OptimizerParamGroup({q})}, options);
  // As a checkpoint restores it: contiguous (NCHW) whatever the parameter's layout.
  const auto momentum = torch::randn({8, 4, 3, 3});
  models::StateDict named_p, named_q;
  named_p.insert("w", p);
  named_q.insert("w", q);
  models::import_optimizer_state(fused, named_p, {{"w", {{"momentum_buffer", momentum}}}});
  models::import_optimizer_state(reference, named_q, {{"w", {{"momentum_buffer", momentum}}}});
  const auto g = torch::randn({8, 4, 3, 3});
  p.mutable_grad() = g.contiguous(torch::MemoryFormat::ChannelsLast);
  q.mutable_grad() = g.contiguous(torch::MemoryFormat::ChannelsLast);
  fused.step();
  reference.step();
  expect_same(p.detach(), q.detach(), "parameter");
}

TEST(FusedSgd, NonFloatParametersTakeTorchOperations) {
  auto p = torch::randn({33}, torch::kDouble).requires_grad_(true);
  auto q = p.detach().clone().requires_grad_(true);
  const auto options = optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4).nesterov(true);
  FusedSGD fused({optim::OptimizerParamGroup({p})}, options);
  optim::SGD reference({optim::OptimizerParamGroup({q})}, options);
  for (int step = 0; step < 2; ++step) {
    const auto g = torch::randn({33}, torch::kDouble);
    p.mutable_grad() = g.clone();
    q.mutable_grad() = g.clone();
    fused.step();
    reference.step();
  }
  EXPECT_TRUE(torch::equal(p.detach(), q.detach()));
}

TEST(FusedSgd, ParametersWithoutGradientsAreSkipped) {
  auto p = torch::randn({5}).requires_grad_(true);
  const auto before = p.detach().clone();
  FusedSGD fused({optim::OptimizerParamGroup({p})},
                 optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-2));
  fused.step();
  EXPECT_TRUE(torch::equal(p.detach(), before));
}

}  // namespace
}  // namespace scenery::train
