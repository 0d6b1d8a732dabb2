// Small pictures for people: a captioned, readable-size image and the
// image | prediction | truth strip of a parsing network. Shared by
// scenery-eval's record (eval.examples) and the training run's validation
// pictures (train/validation_pictures.h).
#pragma once

#include <torch/torch.h>

#include <string>

#include <opencv2/core.hpp>

namespace scenery::eval {

// Pictures smaller than this on their short side are enlarged to it (training
// crops can be 48 px); taller than kMaxPictureHeight, shrunk to it.
constexpr int kMinPictureSide = 224;
constexpr int kMaxPictureHeight = 320;

// `picture` scaled into [kMinPictureSide, kMaxPictureHeight] where it lies outside.
cv::Mat readable_size(const cv::Mat& picture, int interpolation);

// A white strip under the picture with one line of text.
cv::Mat captioned(const cv::Mat& picture, const std::string& caption);

// A parsing mask [H, W] (0: unlabelled, black; class k >= 1: a colour of its own).
cv::Mat colour_mask(const torch::Tensor& mask);

// image (8-bit BGR) | predicted mask | true mask (undefined: left out), masks as
// colour_mask draws them, at readable_size, captioned.
cv::Mat parsing_strip(const cv::Mat& image_bgr, const torch::Tensor& predicted,
                      const torch::Tensor& truth);

}  // namespace scenery::eval
