// Minimal images: the greedy removal order on a hand-made scorer, and the
// segments of an annotation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "inspect/minimal_image.h"

namespace scenery::inspect {
namespace {

TEST(MinimalImage, GreedyRemovalOrderOnAHandMadeScorer) {
  // Four segments of one pixel each, segment 3 absent at this size. Class 0's
  // logit is 2 k0 + 1 k1 + 0.1 k2 (k = kept), class 1's is 1.5:
  //  start 3.1 > 1.5, correct;
  //  step 1: without 0: 1.1 (wrong), without 1: 2.1, without 2: 3.0 -> remove 2;
  //  step 2: without 0: 1.0 (wrong), without 1: 2.0 -> remove 1;
  //  step 3: without 0: 0 (wrong) -> stop with segment 0 alone.
  const auto ids = torch::tensor({0, 1, 2}, torch::kInt64).view({1, 3});
  int64_t calls = 0;
  auto scorer = [&](const torch::Tensor& keep) {
    ++calls;
    const auto k = keep.view({keep.size(0), 3});
    const auto class0 = 2 * k.select(1, 0) + k.select(1, 1) + 0.1 * k.select(1, 2);
    const auto logits = torch::stack({class0, torch::full_like(class0, 1.5)}, 1);
    return torch::softmax(logits, 1);
  };
  for (int batch : {1, 2, 8}) {
    const auto r = greedy_removal(ids, 4, 0, scorer, batch);
    ASSERT_TRUE(r.correct);
    EXPECT_EQ(r.removed, (std::vector<int>{2, 1})) << "batch " << batch;
    EXPECT_EQ(r.kept, (std::vector<bool>{true, false, false, true}));
    // 1 + 3 + 2 + 1 candidate forwards.
    EXPECT_EQ(r.forwards, 7);
    const double p_final = 1 / (1 + std::exp(1.5 - 2.0));
    EXPECT_NEAR(r.final_probability, p_final, 1e-6);
  }
  // A wrongly classified start removes nothing.
  const auto wrong = greedy_removal(ids, 3, 1, scorer, 4);
  EXPECT_FALSE(wrong.correct);
  EXPECT_TRUE(wrong.removed.empty());
}

TEST(MinimalImage, SegmentsAreTheConnectedRegionsOfEachClass) {
  cv::Mat labels(4, 6, CV_8U, cv::Scalar(0));
  labels(cv::Rect(0, 0, 2, 2)).setTo(2);  // class 2, first region (4 px)
  labels(cv::Rect(4, 0, 2, 1)).setTo(2);  // class 2, second region (2 px)
  labels(cv::Rect(0, 3, 6, 1)).setTo(5);  // class 5 (6 px)
  const Segments s = segments_from_annotation(labels);
  // The unlabelled rest (24 - 12 = 12 px, one 8-connected region) is a segment too.
  ASSERT_EQ(s.count(), 4);
  EXPECT_EQ(s.classes, (std::vector<int>{0, 2, 2, 5}));
  EXPECT_EQ(s.pixels, (std::vector<int64_t>{12, 4, 2, 6}));
  EXPECT_EQ(s.ids.at<int>(2, 2), 0);
  EXPECT_NE(s.ids.at<int>(0, 0), s.ids.at<int>(0, 5));
  EXPECT_THROW(segments_from_annotation(cv::Mat(2, 2, CV_16U, cv::Scalar(1))), EvalError);
}

TEST(MinimalImage, SuperpixelsCoverTheImage) {
  if (!have_superpixels()) GTEST_SKIP() << "built without OpenCV ximgproc";
  cv::Mat rgb(48, 64, CV_8UC3);
  cv::randu(rgb, 0, 255);
  const Segments s = superpixel_segments(rgb, 16);
  EXPECT_GT(s.count(), 4);
  int64_t total = 0;
  for (auto p : s.pixels)
    total += p;
  EXPECT_EQ(total, 48 * 64);
}

}  // namespace
}  // namespace scenery::inspect
