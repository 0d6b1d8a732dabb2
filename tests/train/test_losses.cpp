// Loss definitions against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "train/losses.h"

namespace scenery::train {
namespace {

using models::ModelKind;
using models::ModelOutput;

TEST(Losses, LabelSmoothingMatchesTheFormula) {
  // Two classes, logits (0, 0): log p = log 0.5 for both, so CE = log 2 whatever
  // the smoothing; with logits (2, 0) and eps = 0.2:
  // loss = -(1 - eps + eps/2) log p0 - (eps/2) log p1.
  ModelOutput out;
  out.logits = torch::tensor({{2.0f, 0.0f}});
  const auto labels = torch::tensor({0}, torch::kLong);
  LossOptions o;
  o.label_smoothing = 0.2;
  const double lp0 = 2.0 - std::log(std::exp(2.0) + 1.0), lp1 = -std::log(std::exp(2.0) + 1.0);
  const double expected = -(0.9 * lp0 + 0.1 * lp1);
  EXPECT_NEAR(training_loss(ModelKind::kClassifier, out, labels, o).item<double>(), expected, 1e-6);
}

TEST(Losses, TwoBranchAddsWeightedAuxiliaryHeads) {
  ModelOutput out;
  out.logits = torch::tensor({{0.0f, 0.0f}});        // CE = log 2
  out.rgb_logits = torch::tensor({{1.0f, 1.0f}});    // CE = log 2
  out.sem_logits = torch::tensor({{0.0f, 100.0f}});  // CE = 100
  const auto labels = torch::tensor({0}, torch::kLong);
  LossOptions o;
  o.rgb_weight = 0.5;
  o.sem_weight = 0.25;
  EXPECT_NEAR(training_loss(ModelKind::kTwoBranch, out, labels, o).item<double>(),
              1.5 * std::log(2.0) + 25.0, 1e-4);
}

TEST(Losses, ParsingIgnoresOtherAndShiftsLabels) {
  EXPECT_TRUE(torch::equal(parsing_target(torch::tensor({0, 1, 150, 151, 255}), 150),
                           torch::tensor({-1, 0, 149, -1, -1}, torch::kLong)));
  // 3 classes; pixel 0 has label 0 (ignored), pixel 1 label 2 -> channel 1.
  ModelOutput out;
  out.logits = torch::zeros({1, 3, 1, 2});
  out.logits[0][1][0][1] = 5.0;
  out.aux_logits = torch::zeros({1, 3, 1, 2});
  const auto masks = torch::tensor({0, 2}, torch::kLong).view({1, 1, 2});
  LossOptions o;
  o.num_parsing_classes = 3;
  o.aux_weight = 0.4;
  const double main = -(5.0 - std::log(std::exp(5.0) + 2.0));
  const double aux = std::log(3.0);
  EXPECT_NEAR(training_loss(ModelKind::kParsing, out, masks, o).item<double>(), main + 0.4 * aux,
              1e-5);
  // A crop without any labelled pixel gives 0, not NaN.
  const auto unlabelled = torch::zeros({1, 1, 2}, torch::kLong);
  EXPECT_EQ(training_loss(ModelKind::kParsing, out, unlabelled, o).item<double>(), 0.0);
}

}  // namespace
}  // namespace scenery::train
