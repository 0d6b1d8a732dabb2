// Semantic maps computed by a parsing network: the slots must be what a
// precomputed top-3 PNG pair of the same prediction would give.
#include "eval/semantic_provider.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "data/semantic_input.h"
#include "models/registry.h"

namespace scenery::eval {
namespace {

TEST(SemanticProvider, TopThreeOfLogitsMatchesThePrecomputedPngConvention) {
  // One pixel, 150 classes: classes 4, 0 and 149 (0-based) lead with
  // probabilities 0.6, 0.25, 0.15 (the rest ~0).
  auto probs = torch::full({1, 150, 1, 1}, 1e-12f);
  probs[0][4][0][0] = 0.6f;
  probs[0][0][0][0] = 0.25f;
  probs[0][149][0][0] = 0.15f;
  const auto map = top3_slots_of_logits(probs.log());
  ASSERT_EQ(map.channels.sizes(), (std::vector<int64_t>{1, 3, 1, 1}));
  EXPECT_EQ(map.channels.dtype(), torch::kUInt8);
  // Rank order, class c (0-based) -> channel c + 1, as data/semantic_input does
  // for a PNG that stores c.
  EXPECT_EQ(map.channels[0][0][0][0].item<int>(), 5);
  EXPECT_EQ(map.channels[0][1][0][0].item<int>(), 1);
  EXPECT_EQ(map.channels[0][2][0][0].item<int>(), 150);
  for (int c : {4, 0, 149})
    EXPECT_EQ(data::semantic_channel_of_top3(static_cast<uint8_t>(c),
                                             data::SemanticClassCoding::kZeroBased),
              c + 1);
  // Scores rounded to 1/255 like the PNG's value / 255: 153, 63.75 -> 64, 38.25 -> 38.
  EXPECT_FLOAT_EQ(map.scores[0][0][0][0].item<float>(), 153.0f / 255.0f);
  EXPECT_FLOAT_EQ(map.scores[0][1][0][0].item<float>(), 64.0f / 255.0f);
  EXPECT_FLOAT_EQ(map.scores[0][2][0][0].item<float>(), 38.0f / 255.0f);
}

TEST(SemanticProvider, ParserSeesImagesInItsOwnNormalisation) {
  torch::manual_seed(2);
  auto parser = models::create_model("parsing_resnet18dilated_ppm", 150);
  parser.eval();
  data::NormalizeParams loader_norm;  // ImageNet
  data::NormalizeParams parser_norm;
  parser_norm.mean = {0.5f, 0.5f, 0.5f};
  parser_norm.std = {0.25f, 0.5f, 1.0f};
  const SemanticProvider provider(parser, loader_norm, parser_norm);
  EXPECT_TRUE(provider.computes_maps());

  const auto raw = torch::rand({1, 3, 64, 64});  // pixel values in [0, 1]
  auto normalized = [&](const data::NormalizeParams& n) {
    return (raw - torch::tensor({n.mean[0], n.mean[1], n.mean[2]}).view({1, 3, 1, 1})) /
           torch::tensor({n.std[0], n.std[1], n.std[2]}).view({1, 3, 1, 1});
  };
  data::Batch batch;
  const auto map = provider(batch, normalized(loader_norm));
  torch::NoGradGuard no_grad;
  const auto expected = top3_slots_of_logits(parser.forward(normalized(parser_norm)).logits);
  EXPECT_TRUE(torch::equal(map.channels, expected.channels));
  EXPECT_LT((map.scores - expected.scores).abs().max().item<float>(), 1.5f / 255.0f);
}

TEST(SemanticProvider, OnlyAParsingNetworkCanProvideMaps) {
  EXPECT_THROW(SemanticProvider(models::create_model("resnet18", 3), {}, {}), ModelError);
}

TEST(SemanticProvider, WithoutParserTheBatchSlotsPassThrough) {
  data::Batch batch;
  batch.semantic_channels = torch::randint(152, {2, 1, 4, 4}, torch::kLong).to(torch::kUInt8);
  const auto map = SemanticProvider()(batch, torch::zeros({2, 3, 4, 4}));
  EXPECT_TRUE(torch::equal(map.channels, batch.semantic_channels));
  EXPECT_FALSE(map.scores.defined());
  EXPECT_FALSE(SemanticProvider()(data::Batch{}, torch::zeros({2, 3, 4, 4})).defined());
}

}  // namespace
}  // namespace scenery::eval
