#include "data/semantic_input.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/error.h"

namespace scenery::data {
namespace {

TEST(SemanticInput, MaskIsOneHotWithOtherAndVoidChannels) {
  cv::Mat m(1, 4, CV_8UC1);
  m.at<uint8_t>(0, 0) = 0;    // other
  m.at<uint8_t>(0, 1) = 1;    // wall
  m.at<uint8_t>(0, 2) = 150;  // last class
  m.at<uint8_t>(0, 3) = 255;  // not a class: void
  const auto t = mask_to_semantic(m);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{152, 1, 4}));
  EXPECT_EQ(t[0][0][0].item<float>(), 1.0f);
  EXPECT_EQ(t[1][0][1].item<float>(), 1.0f);
  EXPECT_EQ(t[150][0][2].item<float>(), 1.0f);
  EXPECT_EQ(t[151][0][3].item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(t.sum(0), torch::ones({1, 4})));  // exactly one hot per pixel
}

TEST(SemanticInput, TopThreeZeroBasedScattersScoresIntoClassPlusOne) {
  cv::Mat classes(1, 2, CV_8UC3), scores(1, 2, CV_8UC3);
  classes.at<cv::Vec3b>(0, 0) = {0, 4, 149};  // ADE classes 1, 5, 150
  scores.at<cv::Vec3b>(0, 0) = {255, 51, 0};
  classes.at<cv::Vec3b>(0, 1) = {7, 7, 200};  // same class twice adds; 200 -> void
  scores.at<cv::Vec3b>(0, 1) = {102, 51, 255};
  const auto t = top3_to_semantic(classes, scores);
  EXPECT_FLOAT_EQ(t[1][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[5][0][0].item<float>(), 0.2f);
  EXPECT_FLOAT_EQ(t[150][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[8][0][1].item<float>(), 0.6f);
  EXPECT_FLOAT_EQ(t[151][0][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t.sum().item<float>(), 1.2f + 0.6f + 1.0f);
}

TEST(SemanticInput, TopThreeOneBasedMapsValuesDirectly) {
  cv::Mat classes(1, 1, CV_8UC3, cv::Scalar(0, 3, 150)),
      scores(1, 1, CV_8UC3, cv::Scalar(255, 255, 255));
  const auto t = top3_to_semantic(classes, scores, SemanticClassCoding::kOneBased);
  EXPECT_FLOAT_EQ(t[0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[3][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[150][0][0].item<float>(), 1.0f);
}

TEST(SemanticInput, MismatchedOrWrongTypeMapsAreDataErrors) {
  cv::Mat a(2, 2, CV_8UC3, cv::Scalar(0)), b(3, 2, CV_8UC3, cv::Scalar(0));
  EXPECT_THROW(top3_to_semantic(a, b), DataError);
  EXPECT_THROW(mask_to_semantic(a), DataError);
}

}  // namespace
}  // namespace scenery::data
