// The two dataset-wide sums of unit dissection: the exact per-unit quantile
// (against hand-computed cases and numpy.quantile) and the IoU sums (against
// hand-computed cases).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "inspect/unit_iou.h"
#include "inspect/unit_quantile.h"
#include "support/test_support.h"

namespace scenery::inspect {
namespace {

using scenery::testing::run_command;
using scenery::testing::TempDir;

TEST(UnitQuantile, HandComputedOrderStatisticsTiesAndConstantMaps) {
  // Unit 0: 1..10; unit 1: ties (0 x4, 1 x6); unit 2: constant 3.
  const auto values = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f,  //
                                     0.f, 1.f, 0.f, 1.f, 1.f, 0.f, 1.f, 1.f, 0.f, 1.f,   //
                                     3.f, 3.f, 3.f, 3.f, 3.f, 3.f, 3.f, 3.f, 3.f, 3.f})
                          .view({3, 10});
  UnitQuantile median(3, 10, 0.5);    // p = 4.5: (x4 + x5) / 2
  median.add(values.slice(1, 0, 4));  // streamed in two pieces
  median.add(values.slice(1, 4, 10));
  const auto m = median.thresholds();
  EXPECT_FLOAT_EQ(m[0], 5.5f);
  EXPECT_FLOAT_EQ(m[1], 1.0f);  // x4 = x5 = 1
  EXPECT_FLOAT_EQ(m[2], 3.0f);
  UnitQuantile q90(3, 10, 0.9);  // p = 8.1: x8 + 0.1 (x9 - x8)
  q90.add(values);
  EXPECT_FLOAT_EQ(q90.thresholds()[0], 9.1f);
  EXPECT_EQ(q90.kept_per_unit(), 2);  // only the two largest values are kept
  UnitQuantile top(3, 10, 1.0), bottom(3, 10, 0.0);
  top.add(values);
  bottom.add(values);
  EXPECT_FLOAT_EQ(top.thresholds()[0], 10.f);
  EXPECT_FLOAT_EQ(bottom.thresholds()[0], 1.f);
  EXPECT_FLOAT_EQ(bottom.thresholds()[1], 0.f);
}

TEST(UnitQuantile, CountsAreChecked) {
  UnitQuantile q(2, 4);
  EXPECT_THROW(q.thresholds(), EvalError);  // nothing added
  q.add(torch::zeros({1, 2, 1, 3}));
  EXPECT_THROW(q.add(torch::zeros({1, 2, 1, 2})), EvalError);  // 5 of 4
  EXPECT_THROW(q.add(torch::zeros({1, 3, 1, 1})), EvalError);  // 3 units
}

TEST(UnitQuantile, FewerValuesThanDeclaredGiveTheirOwnQuantile) {
  // Declared for 20 values (an image failed to decode): 7 arrive, 1..7.
  UnitQuantile q(1, 20, 0.9);  // keeps 20 - floor(0.9 * 19) = 3
  q.add(torch::tensor({4.f, 1.f, 7.f, 2.f, 6.f, 3.f, 5.f}).view({1, 7}));
  // p = 0.9 * 6 = 5.4: x5 + 0.4 (x6 - x5) = 6 + 0.4 = 6.4.
  EXPECT_FLOAT_EQ(q.thresholds()[0], 6.4f);
}

TEST(UnitQuantile, EqualsNumpyOnStreamedMapsWithTies) {
  if (run_command("/usr/bin/python3 -c 'import numpy'").exit_code != 0)
    GTEST_SKIP() << "/usr/bin/python3 lacks numpy";
  // 37 images of 4 units x 7 x 9 (N = 2,331 per unit), values rounded to
  // 0.01 so ties are common, ReLU'd so a quarter are exactly 0.
  torch::manual_seed(8);
  const auto maps = (torch::randn({37, 4, 7, 9}) * 2).round().div(100).relu() * 100;
  const int64_t n = 37 * 7 * 9;
  UnitQuantile q(4, n, 0.995);
  for (int64_t b = 0; b < 37; b += 5)
    q.add(maps.slice(0, b, std::min<int64_t>(b + 5, 37)));
  const auto ours = q.thresholds();

  TempDir dir;
  const auto per_unit = maps.transpose(0, 1).reshape({4, n}).contiguous();
  std::ofstream((dir / "maps.f32").string(), std::ios::binary)
      .write(static_cast<const char*>(per_unit.data_ptr()), per_unit.numel() * 4);
  const auto r = run_command(
      "/usr/bin/python3 -c 'import numpy as np; a = np.fromfile(\"" + (dir / "maps.f32").string() +
      "\", dtype=np.float32).reshape(4, -1); print(\" \".join(repr(float(np.quantile(u, "
      "0.995))) for u in a))'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::stringstream in(r.output);
  for (int u = 0; u < 4; ++u) {
    double expected = 0;
    in >> expected;
    EXPECT_FLOAT_EQ(ours[static_cast<size_t>(u)], static_cast<float>(expected)) << "unit " << u;
  }
}

TEST(UnitIoU, HandComputedSumsOverImages) {
  UnitIoU iou(2, 3);
  // Image 1 (2 x 2): unit 0 fires at (0,0) and (1,1); (1,1) is unlabelled.
  // Unit 1 never fires.
  const auto labels1 = torch::tensor({1, 1, 2, 0}).view({2, 2});
  const auto maps1 = torch::tensor({1.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 0.f}).view({2, 2, 2});
  iou.add(maps1, {0.5f, 0.5f}, labels1);
  // Image 2: nothing fires; all class 2.
  iou.add(torch::zeros({2, 2, 2}), {0.5f, 0.5f}, torch::full({2, 2}, 2));
  EXPECT_EQ(iou.unit_area(0), 1);  // the unlabelled pixel does not count
  EXPECT_EQ(iou.class_area(1), 2);
  EXPECT_EQ(iou.class_area(2), 5);
  EXPECT_EQ(iou.intersection(0, 1), 1);
  EXPECT_DOUBLE_EQ(iou.iou(0, 1), 1.0 / (1 + 2 - 1));
  EXPECT_DOUBLE_EQ(iou.iou(0, 2), 0.0);
  // Class 3 is absent everywhere: 0 / |A| = 0; unit 1 with class 3: empty union, 0.
  EXPECT_DOUBLE_EQ(iou.iou(0, 3), 0.0);
  EXPECT_DOUBLE_EQ(iou.iou(1, 3), 0.0);
  const auto best = iou.best(0);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0].cls, 1);
  EXPECT_EQ(best[1].cls, 2);  // ties at 0: the lower class first
}

TEST(UnitIoU, MapsAreResizedBilinearlyToTheAnnotation) {
  // A 1 x 2 map [0, 1] on a 1 x 4 annotation: half-pixel bilinear gives
  // 0, 0.25, 0.75, 1; above 0.5: the right two pixels.
  UnitIoU iou(1, 2);
  iou.add(torch::tensor({0.f, 1.f}).view({1, 1, 2}), {0.5f},
          torch::tensor({1, 1, 2, 2}).view({1, 4}));
  EXPECT_EQ(iou.unit_area(0), 2);
  EXPECT_DOUBLE_EQ(iou.iou(0, 2), 1.0);
  EXPECT_DOUBLE_EQ(iou.iou(0, 1), 0.0);
  EXPECT_THROW(iou.add(torch::zeros({1, 1, 1}), {0.5f}, torch::full({1, 1}, 3)), EvalError);
}

TEST(UnitIoU, EqualsResizingEveryMapWithPyTorch) {
  // Random maps of several sizes, against interpolate() of every unit and a
  // pixel-by-pixel count; thresholds between activations (no ties).
  torch::manual_seed(4);
  namespace F = torch::nn::functional;
  for (const auto& [h, w, H, W] : std::vector<std::array<int64_t, 4>>{
           {2, 2, 28, 30}, {7, 7, 37, 53}, {4, 3, 16, 9}, {1, 1, 5, 6}, {5, 6, 3, 4}}) {
    const int64_t units = 6, classes = 3;
    const auto maps = torch::randn({units, h, w});
    const auto labels = torch::randint(0, classes + 1, {H, W}, torch::kInt64);
    std::vector<float> t;
    for (int64_t u = 0; u < units; ++u)
      t.push_back(0.1f + 0.3f * static_cast<float>(u) + 1e-3f);
    UnitIoU iou(units, classes);
    iou.add(maps, t, labels);
    const auto up = F::interpolate(maps.unsqueeze(0), F::InterpolateFuncOptions()
                                                          .size(std::vector<int64_t>{H, W})
                                                          .mode(torch::kBilinear)
                                                          .align_corners(false))[0];
    for (int64_t u = 0; u < units; ++u) {
      int64_t area = 0;
      std::vector<int64_t> inter(classes + 1, 0);
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          const int64_t c = labels[y][x].item<int64_t>();
          if (c == 0 || !(up[u][y][x].item<float>() > t[static_cast<size_t>(u)])) continue;
          ++area;
          ++inter[static_cast<size_t>(c)];
        }
      EXPECT_EQ(iou.unit_area(u), area)
          << h << "x" << w << " -> " << H << "x" << W << " unit " << u;
      for (int64_t c = 1; c <= classes; ++c)
        EXPECT_EQ(iou.intersection(u, c), inter[static_cast<size_t>(c)]);
    }
  }
}

}  // namespace
}  // namespace scenery::inspect
