#include "eval/segmentation_meter.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace scenery::eval {
namespace {

torch::Tensor bytes(std::vector<int> v) {
  return torch::tensor(std::vector<int64_t>(v.begin(), v.end()), torch::kLong).to(torch::kByte);
}

TEST(SegmentationMeter, HandComputedPixelAccuracyAndIoU) {
  SegmentationMeter m(3);
  //          gt: 0 1 1 2 2 2 3 0
  //        pred: 1 1 2 2 2 0 3 3
  m.add(bytes({1, 1, 2, 2, 2, 0, 3, 3}), bytes({0, 1, 1, 2, 2, 2, 3, 0}));
  // Labelled pixels: 6 (gt>0). Correct: positions 1,3,4,6 -> 4.
  EXPECT_EQ(m.labelled_pixels(), 6);
  EXPECT_EQ(m.correct_pixels(), 4);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 4.0 / 6);
  // Class 1: gt {1,2}, pred on labelled {1} -> inter 1, union 2.
  EXPECT_DOUBLE_EQ(m.iou(1), 1.0 / 2);
  // Class 2: gt {3,4,5}, pred {2,3,4} -> inter 2, union 4. The 0 at position 5 is just wrong.
  EXPECT_DOUBLE_EQ(m.iou(2), 2.0 / 4);
  // Class 3: gt {6}, pred {6} (position 7 has gt 0: excluded) -> 1/1.
  EXPECT_DOUBLE_EQ(m.iou(3), 1.0);
  EXPECT_DOUBLE_EQ(m.mean_iou(), (0.5 + 0.5 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(m.challenge_score(), (4.0 / 6 + 2.0 / 3) / 2);
}

TEST(SegmentationMeter, ClassAbsentFromBothScoresZeroAndStillCounts) {
  SegmentationMeter m(4);
  m.add(bytes({1, 2, 3}), bytes({1, 2, 3}));  // class 4 never appears
  EXPECT_DOUBLE_EQ(m.iou(4), 0.0);
  EXPECT_DOUBLE_EQ(m.mean_iou(), 3.0 / 4);
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 1.0);
  EXPECT_EQ(m.classes_present(), 3);
  EXPECT_DOUBLE_EQ(m.mean_iou_present(), 1.0);
}

// Only ground truth makes a class present: a class that is only predicted
// counts in the official mean (IoU 0) but not in the present-class one.
TEST(SegmentationMeter, PresentClassesAreThoseWithGroundTruthPixels) {
  SegmentationMeter m(5);
  //   gt: 1 1 2 2 0
  // pred: 1 3 2 2 4
  m.add(bytes({1, 3, 2, 2, 4}), bytes({1, 1, 2, 2, 0}));
  EXPECT_EQ(m.classes_present(), 2);
  // Class 1: inter 1, union 2; class 2: 2/2. Class 3 predicted only, IoU 0.
  EXPECT_DOUBLE_EQ(m.mean_iou_present(), (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(m.mean_iou(), (0.5 + 1.0) / 5);
}

TEST(SegmentationMeter, AllUnlabelledImagesContributeNothing) {
  SegmentationMeter m(2);
  m.add(bytes({1, 2, 2, 1}), bytes({0, 0, 0, 0}));
  EXPECT_EQ(m.labelled_pixels(), 0);
  EXPECT_EQ(m.union_(1), 0);
  m.add(bytes({2}), bytes({2}));
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(m.iou(2), 1.0);
  EXPECT_DOUBLE_EQ(m.iou(1), 0.0);  // class 1 was only predicted on unlabelled pixels
}

TEST(SegmentationMeter, SumsOverTheDatasetNotMeanOfImages) {
  SegmentationMeter m(1);
  m.add(bytes({1}), bytes({1}));                    // image A: 1/1 correct
  m.add(bytes({0, 0, 0, 1}), bytes({1, 1, 1, 1}));  // image B: 1/4 correct
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 2.0 / 5);    // a mean of images would give 0.625
  EXPECT_DOUBLE_EQ(m.iou(1), 2.0 / 5);
}

TEST(SegmentationMeter, PredictionsOutsideTheClassRangeAreWrongNotCounted) {
  SegmentationMeter m(2);
  m.add(bytes({200, 1}), bytes({1, 1}));
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(m.iou(1), 0.5);
}

TEST(SegmentationMeter, MatchesANaiveDefinitionOnRandomMasks) {
  torch::manual_seed(5);
  const int classes = 150;
  SegmentationMeter m(classes);
  std::vector<int64_t> inter(classes + 1), area_pred(classes + 1), area_gt(classes + 1);
  int64_t labelled = 0, correct = 0;
  for (int image = 0; image < 3; ++image) {
    const auto gt = torch::randint(0, classes + 1, {61, 47}, torch::kLong);
    // Predictions agree 60% of the time, else random (including 0).
    const auto agree = torch::rand({61, 47}) < 0.6;
    const auto pred =
        torch::where(agree, gt, torch::randint(0, classes + 1, {61, 47}, torch::kLong));
    m.add(pred, gt);
    const auto g = gt.flatten(), p = pred.flatten();
    for (int64_t i = 0; i < g.numel(); ++i) {
      const int64_t gv = g[i].item<int64_t>(), pv = p[i].item<int64_t>();
      if (gv == 0) continue;
      ++labelled;
      ++area_gt[gv];
      if (pv >= 1) ++area_pred[pv];
      if (pv == gv) ++correct, ++inter[gv];
    }
  }
  EXPECT_DOUBLE_EQ(m.pixel_accuracy(), static_cast<double>(correct) / labelled);
  double sum = 0;
  for (int c = 1; c <= classes; ++c) {
    const int64_t u = area_pred[c] + area_gt[c] - inter[c];
    const double iou = u ? static_cast<double>(inter[c]) / u : 0.0;
    EXPECT_DOUBLE_EQ(m.iou(c), iou) << "class " << c;
    sum += iou;
  }
  EXPECT_DOUBLE_EQ(m.mean_iou(), sum / classes);
}

TEST(SegmentationMeter, MergeAndStateRoundTrip) {
  SegmentationMeter a(3), b(3), whole(3), restored(3);
  a.add(bytes({1, 2, 3}), bytes({1, 1, 3}));
  b.add(bytes({3, 3}), bytes({2, 3}));
  whole.add(bytes({1, 2, 3, 3, 3}), bytes({1, 1, 3, 2, 3}));
  a.merge(b);
  restored.merge_state(whole.state());
  for (int c = 1; c <= 3; ++c) {
    EXPECT_EQ(a.intersection(c), whole.intersection(c));
    EXPECT_EQ(a.union_(c), whole.union_(c));
    EXPECT_EQ(restored.union_(c), whole.union_(c));
  }
}

TEST(SegmentationMeter, RejectsMismatchedShapesAndOutOfByteRange) {
  SegmentationMeter m(150);
  EXPECT_THROW(m.add(torch::zeros({2, 2}, torch::kLong), torch::zeros({2, 3}, torch::kLong)),
               EvalError);
  EXPECT_THROW(m.add(torch::full({2}, 300, torch::kLong), torch::zeros({2}, torch::kLong)),
               EvalError);
  EXPECT_THROW(SegmentationMeter(0), EvalError);
}

}  // namespace
}  // namespace scenery::eval
