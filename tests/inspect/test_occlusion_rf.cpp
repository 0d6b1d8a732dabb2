// Receptive fields by occlusion: the grid geometry, the re-centring and the
// size by hand, and on a real network the discrepancy is zero wherever a patch
// lies outside the unit's theoretical receptive field.
#include <gtest/gtest.h>

#include "core/error.h"
#include "inspect/occlusion_rf.h"
#include "models/layer_taps.h"
#include "models/receptive_field.h"
#include "models/registry.h"

namespace scenery::inspect {
namespace {

TEST(Occlusion, GridPositionsAreEveryStrideUntilThePatchNoLongerFits) {
  const auto p224 = occlusion_positions(224, 11, 3);
  ASSERT_EQ(p224.size(), 72u);  // 0 .. 213 = 224 - 11
  EXPECT_EQ(p224.front(), 0);
  EXPECT_EQ(p224.back(), 213);
  const auto p112 = occlusion_positions(112, 11, 3);
  ASSERT_EQ(p112.size(), 34u);  // 99 + 11 = 110 fits, 102 + 11 = 113 does not
  EXPECT_EQ(p112.back(), 99);
  EXPECT_EQ(occlusion_positions(11, 11, 3), std::vector<int>{0});
  EXPECT_THROW(occlusion_positions(10, 11, 3), EvalError);
  EXPECT_THROW(occlusion_positions(64, 11, 0), EvalError);
}

TEST(Occlusion, RecentringAndSizeByHand) {
  // 20 px input, 5 px patches every 5 px: corners 0, 5, 10, 15; radius
  // ceil(19 / 5) = 4, a 9 x 9 canvas. The patch at (gy 1, gx 2) has its centre
  // at (7, 12); for a unit at (7, 7) that is offset (0, +1) cell: canvas (4, 5).
  OcclusionOptions o;
  o.patch = 5;
  o.stride = 5;
  RecentredAverage avg(20, o);
  EXPECT_EQ(avg.radius(), 4);
  auto d = torch::zeros({4, 4});
  d[1][2] = 1.f;
  avg.add(d, 7, 7);
  // A second image with its unit elsewhere: (12, 2) -> the same patch is at
  // offset (-1, +2): canvas (3, 6), holding 0.5 * (0 + 2) over... only this image.
  auto d2 = torch::zeros({4, 4});
  d2[1][2] = 2.f;
  avg.add(d2, 12, 2);
  const auto m = avg.average();
  ASSERT_EQ(m.size(0), 9);
  EXPECT_FLOAT_EQ(m[4][5].item<float>(), 0.5f);  // image 1: 1, image 2: 0 there
  EXPECT_FLOAT_EQ(m[3][6].item<float>(), 1.0f);  // image 1: 0, image 2: 2
  EXPECT_EQ(avg.images(), 2);
  // Size: a 4 x 4 block above half the maximum, cells of 5 px: sqrt(16) * 5 = 20.
  auto block = torch::zeros({9, 9});
  block.slice(0, 2, 6).slice(1, 3, 7).fill_(1.f);
  block[0][0] = 0.4f;  // below half: not counted
  EXPECT_DOUBLE_EQ(empirical_rf_size(block, 5, 0.5), 20.0);
  EXPECT_DOUBLE_EQ(empirical_rf_size(torch::zeros({9, 9}), 5, 0.5), 0.0);
  // Peak locations: cell centres scaled to the input.
  EXPECT_DOUBLE_EQ(peak_location(0, 4, 64), 7.5);
  EXPECT_DOUBLE_EQ(peak_location(3, 4, 64), 55.5);
}

TEST(Occlusion, PeaksAreTheFirstMaximum) {
  const auto maps = torch::tensor({0.f, 3.f, 3.f, 1.f, 5.f, 0.f, 0.f, 0.f}).view({2, 2, 2});
  const auto peaks = unit_peaks(maps, {0, 1});
  EXPECT_EQ(peaks[0].row, 0);
  EXPECT_EQ(peaks[0].col, 1);
  EXPECT_FLOAT_EQ(peaks[0].value, 3.f);
  EXPECT_EQ(peaks[1].row, 0);
  EXPECT_EQ(peaks[1].col, 0);
}

TEST(Occlusion, DiscrepancyVanishesOutsideTheTheoreticalField) {
  // ResNet-18 layer1: 43 px field, jump 4. At 64 px its map is 16 x 16.
  torch::manual_seed(8);
  auto model = models::create_model("resnet18", 3);
  model.eval();
  const models::LayerTaps taps(model);
  const auto input = torch::randn({3, 64, 64});
  torch::NoGradGuard no_grad;
  const auto maps = taps.run(input.unsqueeze(0), {"layer1"})[0][0];
  // A unit's peak forced to a known interior cell: take unit 0 at cell (8, 8).
  UnitPeak peak{0, 8, 8, maps[0][8][8].item<float>()};
  OcclusionOptions o;
  o.patch = 5;
  o.stride = 4;
  const auto d = occlusion_discrepancy(taps, "layer1", input, {peak}, o, torch::kCPU, 1)[0];
  o.batch_size = 7;  // the same patches whatever the batching
  const auto again = occlusion_discrepancy(taps, "layer1", input, {peak}, o, torch::kCPU, 1)[0];
  EXPECT_LT((d - again).abs().max().item<float>(), 1e-4f);
  const auto field = models::receptive_field_of(model, "layer1");
  ASSERT_EQ(field.size, 43);
  // The stem's padding keeps cell c's centre at 4 c: cell 8 sees pixels 32 +- 21.
  EXPECT_DOUBLE_EQ(field.start, 0.0);
  const double centre = peak_location(8, field);
  EXPECT_DOUBLE_EQ(centre, 32.0);
  const auto positions = occlusion_positions(64, o.patch, o.stride);
  double outside = 0, inside = 0;
  for (size_t gy = 0; gy < positions.size(); ++gy)
    for (size_t gx = 0; gx < positions.size(); ++gx) {
      auto overlaps = [&](int p) { return p + o.patch - 1 >= centre - 21 && p <= centre + 21; };
      const float v = d[static_cast<int64_t>(gy)][static_cast<int64_t>(gx)].item<float>();
      if (overlaps(positions[gy]) && overlaps(positions[gx]))
        inside = std::max<double>(inside, v);
      else
        outside = std::max<double>(outside, v);
    }
  EXPECT_GT(inside, 1e-3);
  EXPECT_LT(outside, 1e-5);
}

TEST(Occlusion, UnitListsAcceptRangesAndAll) {
  EXPECT_EQ(parse_unit_list("0-3,7", 10), (std::vector<int64_t>{0, 1, 2, 3, 7}));
  EXPECT_EQ(parse_unit_list("all", 3), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_THROW(parse_unit_list("12", 10), ConfigError);
  EXPECT_THROW(parse_unit_list("3-1", 10), ConfigError);
  EXPECT_THROW(parse_unit_list("x", 10), ConfigError);
}

}  // namespace
}  // namespace scenery::inspect
