// The slot form of the semantic map against its definition: every result is
// compared with torch::conv2d over the dense map the slots denote.
#include "models/semantic_map.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "models/registry.h"

namespace scenery::models {
namespace {

constexpr int64_t kChannels = 152;

struct Case {
  int64_t slots, size, stride, padding, kernel;
  bool scores;
};

SemanticMap random_slots(const Case& c, int64_t batch) {
  auto channels = torch::randint(kChannels, {batch, c.slots, c.size, c.size + 3}, torch::kLong)
                      .to(torch::kUInt8);
  auto scores = c.scores ? torch::rand({batch, c.slots, c.size, c.size + 3}) : torch::Tensor();
  return SemanticMap::from_slots(channels, scores);
}

TEST(SemanticMap, SlotsDensifyToTheirDefinition) {
  // Two slots of one pixel naming the same channel add up; others stay 0.
  auto channels = torch::tensor({7, 7, 151}, torch::kUInt8).view({1, 3, 1, 1});
  auto scores = torch::tensor({0.25f, 0.5f, 1.0f}).view({1, 3, 1, 1});
  const auto dense = SemanticMap::from_slots(channels, scores).to_dense(kChannels);
  ASSERT_EQ(dense.sizes(), (std::vector<int64_t>{1, kChannels, 1, 1}));
  EXPECT_FLOAT_EQ(dense[0][7][0][0].item<float>(), 0.75f);
  EXPECT_FLOAT_EQ(dense[0][151][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(dense.sum().item<float>(), 1.75f);
  // Without scores: one-hot.
  const auto onehot = SemanticMap::from_slots(channels.narrow(1, 0, 1)).to_dense(kChannels);
  EXPECT_FLOAT_EQ(onehot[0][7][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(onehot.sum().item<float>(), 1.0f);
}

TEST(SemanticMap, SlotConvolutionEqualsDenseConvolutionForwardAndBackward) {
  torch::manual_seed(3);
  const Case cases[] = {
      {1, 23, 2, 3, 7, false},  // one-hot annotations, the stem's 7x7/2 (odd size: edge taps)
      {3, 20, 2, 3, 7, true},   // top-3 maps with scores
      {2, 9, 1, 1, 3, true},    // another geometry
      {1, 5, 3, 0, 3, true},    // stride > kernel overlap, no padding
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "slots " << c.slots << " size " << c.size << " stride "
                                      << c.stride << " kernel " << c.kernel);
    const auto map = random_slots(c, 2);
    auto w1 = torch::randn({16, kChannels, c.kernel, c.kernel}, torch::requires_grad());
    auto w2 = w1.detach().clone().requires_grad_(true);
    const auto sparse = semantic_conv2d(map, w1, c.stride, c.padding);
    const auto dense = torch::conv2d(map.to_dense(kChannels), w2, {}, c.stride, c.padding);
    ASSERT_EQ(sparse.sizes(), dense.sizes());
    EXPECT_LT((sparse - dense).abs().max().item<float>(), 1e-4f);
    const auto g = torch::randn(dense.sizes());
    (sparse * g).sum().backward();
    (dense * g).sum().backward();
    EXPECT_LT((w1.grad() - w2.grad()).abs().max().item<float>(), 1e-3f);
    EXPECT_GT(w1.grad().abs().sum().item<float>(), 0.0f);
  }
}

TEST(SemanticMap, SlotGradientDoesNotDependOnTheThreadCount) {
  torch::manual_seed(5);
  const auto map = random_slots({3, 32, 2, 3, 7, true}, 3);
  auto grad_with = [&](int threads) {
    torch::set_num_threads(threads);
    auto w = torch::ones({8, kChannels, 7, 7}, torch::requires_grad());
    semantic_conv2d(map, w, 2, 3).pow(2).sum().backward();
    return w.grad().clone();
  };
  const auto one = grad_with(1);
  const auto two = grad_with(2);
  torch::set_num_threads(2);
  EXPECT_TRUE(torch::equal(one, two));  // bitwise: exact resume relies on it
}

TEST(SemanticMap, BadSlotsAreClearErrors) {
  auto w = torch::randn({4, kChannels, 7, 7});
  const auto too_high = SemanticMap::from_slots(torch::full({1, 1, 8, 8}, 152, torch::kUInt8));
  try {
    semantic_conv2d(too_high, w, 2, 3);
    FAIL() << "channel 152 accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("152"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SemanticMap::from_slots(torch::zeros({1, 8, 8}, torch::kUInt8)), ModelError);
  EXPECT_THROW(SemanticMap::from_slots(torch::zeros({1, 1, 8, 8})), ModelError);  // float
  EXPECT_THROW(SemanticMap::from_slots(torch::zeros({1, 3, 8, 8}, torch::kUInt8),
                                       torch::zeros({1, 3, 8, 9})),
               ModelError);
  EXPECT_THROW(semantic_conv2d(SemanticMap(torch::zeros({1, 151, 8, 8})), w, 2, 3), ModelError);
}

TEST(SemanticMap, TwoBranchNetworkGivesTheSameOutputsForSlotsAndDenseMaps) {
  torch::manual_seed(11);
  auto model = create_model("sascene_resnet18", 5);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randn({2, 3, 160, 160});
  const auto slots = random_slots({3, 160, 2, 3, 7, true}, 2);
  // random_slots makes W = H + 3; crop to the image's square.
  const auto channels = slots.channels.narrow(3, 0, 160).contiguous();
  const auto scores = slots.scores.narrow(3, 0, 160).contiguous();
  const auto map = SemanticMap::from_slots(channels, scores);
  const auto a = model.forward(images, map);
  const auto b = model.forward(images, map.to_dense(kChannels));
  EXPECT_LT((a.logits - b.logits).abs().max().item<float>(), 1e-4f);
  EXPECT_LT((a.sem_logits - b.sem_logits).abs().max().item<float>(), 1e-4f);
  EXPECT_TRUE(torch::equal(a.rgb_logits, b.rgb_logits));
}

}  // namespace
}  // namespace scenery::models
