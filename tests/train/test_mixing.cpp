#include "train/mixing.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <sstream>

#include "data/transforms_rng.h"
#include "support/test_support.h"

namespace scenery::train {
namespace {
namespace F = torch::nn::functional;
using scenery::testing::run_command;
using scenery::testing::TempDir;
using scenery::testing::write_text;

// timm's rand_bbox + cutmix_bbox_and_lam (correct_lam=True), transcribed, run
// by Python for the same lam and centre as ours.
TEST(Mixing, CutMixBoxAndLamEqualTimmsDefinition) {
  struct Case {
    int64_t h, w;
    double lam;
    int64_t cy, cx;
  };
  const std::vector<Case> cases = {{32, 32, 0.7, 16, 16},     {32, 48, 0.3, 0, 47},
                                   {224, 224, 0.05, 200, 10}, {17, 29, 0.99, 8, 3},
                                   {64, 64, 0.5, 63, 63},     {40, 30, 0.0, 20, 0}};
  std::string spec;
  for (const auto& c : cases)
    spec += fmt::format("{} {} {} {} {}\n", c.h, c.w, c.lam, c.cy, c.cx);
  TempDir dir;
  write_text(dir / "cases.txt", spec);
  write_text(dir / "timm.py", R"(
import sys, numpy as np
for line in open(sys.argv[1]):
    img_h, img_w, lam, cy, cx = line.split()
    img_h, img_w, lam, cy, cx = int(img_h), int(img_w), float(lam), int(cy), int(cx)
    ratio = np.sqrt(1 - lam)
    cut_h, cut_w = int(img_h * ratio), int(img_w * ratio)
    yl = np.clip(cy - cut_h // 2, 0, img_h)
    yh = np.clip(cy + cut_h // 2, 0, img_h)
    xl = np.clip(cx - cut_w // 2, 0, img_w)
    xh = np.clip(cx + cut_w // 2, 0, img_w)
    bbox_area = (yh - yl) * (xh - xl)
    lam = 1. - bbox_area / float(img_h * img_w)
    print(yl, yh, xl, xh, repr(float(lam)))  # NumPy 2's repr of a float64 names its type
)");
  const auto r = run_command("/usr/bin/python3 " + (dir / "timm.py").string() + " " +
                             (dir / "cases.txt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream in(r.output);
  for (const auto& c : cases) {
    int64_t y0, y1, x0, x1;
    double lam;
    in >> y0 >> y1 >> x0 >> x1 >> lam;
    const MixDecision d = cutmix_box(c.h, c.w, c.lam, c.cy, c.cx);
    EXPECT_EQ(d.y0, y0);
    EXPECT_EQ(d.y1, y1);
    EXPECT_EQ(d.x0, x0);
    EXPECT_EQ(d.x1, x1);
    EXPECT_DOUBLE_EQ(d.lam, lam) << c.h << "x" << c.w << " lam " << c.lam;
  }
}

TEST(Mixing, ImagesAndTargetsMixAsDefined) {
  torch::manual_seed(3);
  const auto x = torch::rand({4, 3, 8, 8});
  const auto y = torch::tensor({0, 2, 1, 2}, torch::kLong);
  MixDecision mixup;
  mixup.mixed = true;
  mixup.lam = 0.3;
  EXPECT_TRUE(torch::allclose(mix_images(x, mixup), 0.3 * x + 0.7 * x.flip(0)));
  // One-hot with smoothing 0.1 over 3 classes: off 0.1/3, on 0.9 + 0.1/3.
  const auto t = mix_targets(y, 3, 0.1, mixup);
  const double off = 0.1 / 3, on = 0.9 + off;
  EXPECT_NEAR(t[0][0].item<double>(), 0.3 * on + 0.7 * off, 1e-6);  // 0 mixed with 2
  EXPECT_NEAR(t[0][2].item<double>(), 0.3 * off + 0.7 * on, 1e-6);
  EXPECT_NEAR(t[1][2].item<double>(), 0.3 * on + 0.7 * off, 1e-6);  // 2 mixed with 1
  EXPECT_NEAR(t[1][1].item<double>(), 0.3 * off + 0.7 * on, 1e-6);
  EXPECT_TRUE(torch::allclose(t.sum(1), torch::ones({4})));

  const MixDecision cut = cutmix_box(8, 8, 0.75, 4, 4);  // a 4x4 box
  const auto mixed = mix_images(x, cut);
  using torch::indexing::Slice;
  const auto box = std::initializer_list<torch::indexing::TensorIndex>{Slice(), Slice(),
                                                                       Slice(2, 6), Slice(2, 6)};
  EXPECT_TRUE(torch::equal(mixed.index(box), x.flip(0).index(box)));
  auto rest = mixed.clone();
  rest.index_put_(box, x.index(box));
  EXPECT_TRUE(torch::equal(rest, x));
  EXPECT_DOUBLE_EQ(cut.lam, 0.75);
}

// Against LibTorch's own cross-entropy: one-hot targets give plain CE, and
// smoothed one-hot targets give CE with label_smoothing.
TEST(Mixing, SoftTargetCrossEntropyAgreesWithCrossEntropy) {
  torch::manual_seed(1);
  const auto logits = torch::randn({6, 5});
  const auto y = torch::randint(0, 5, {6}, torch::kLong);
  const MixDecision none;
  EXPECT_NEAR(soft_target_cross_entropy(logits, mix_targets(y, 5, 0.0, none)).item<double>(),
              F::cross_entropy(logits, y).item<double>(), 1e-6);
  EXPECT_NEAR(
      soft_target_cross_entropy(logits, mix_targets(y, 5, 0.2, none)).item<double>(),
      F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().label_smoothing(0.2)).item<double>(),
      1e-6);
}

// Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
TEST(Mixing, BetaSamplesHaveTheBetaMoments) {
  for (double a : {0.2, 0.8, 1.0, 2.0}) {
    data::Rng rng(static_cast<uint64_t>(a * 100));
    const std::function<double()> u = [&] { return rng.uniform(); };
    const int n = 40000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = sample_beta(a, u);
      ASSERT_GE(v, 0.0);
      ASSERT_LE(v, 1.0);
      sum += v, sum2 += v * v;
    }
    const double mean = sum / n, var = sum2 / n - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.01) << a;
    EXPECT_NEAR(var, 1.0 / (4 * (2 * a + 1)), 0.005) << a;
  }
}

TEST(Mixing, DecisionsFollowProbabilitiesAndRepeatForTheSameBatch) {
  MixOptions o;
  o.mixup_alpha = 0.8, o.cutmix_alpha = 1.0, o.prob = 0.6, o.switch_prob = 0.25;
  int mixed = 0, cut = 0;
  for (int64_t p = 0; p < 4000; ++p) {
    const MixDecision d = draw_mix(o, 7, 0, 1, p, 32, 32);
    const MixDecision again = draw_mix(o, 7, 0, 1, p, 32, 32);
    EXPECT_EQ(d.lam, again.lam);
    EXPECT_EQ(d.x0, again.x0);
    mixed += d.mixed, cut += d.cutmix;
  }
  EXPECT_NEAR(mixed / 4000.0, 0.6, 0.03);
  EXPECT_NEAR(static_cast<double>(cut) / mixed, 0.25, 0.03);
  int differ = 0;  // each rank mixes its own batch with its own draws
  for (int64_t p = 0; p < 20; ++p)
    differ += draw_mix(o, 7, 0, 1, p, 32, 32).lam != draw_mix(o, 7, 1, 1, p, 32, 32).lam;
  EXPECT_GT(differ, 10);
  EXPECT_FALSE(draw_mix(MixOptions{}, 7, 0, 1, 5, 32, 32).mixed);
}

}  // namespace
}  // namespace scenery::train
