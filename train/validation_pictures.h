// Pictures of a validation pass for people watching a run: the confusion
// matrix of a classifier, and a few validation images with what the model
// made of them — the top-1 class activation map (Zhou et al. 2016, drawn as
// scenery-inspect draws it) for classifiers, the predicted next to the true
// mask for parsing.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "eval/semantic_provider.h"
#include "models/scene_model.h"
#include "train/hardware.h"
#include "train/validate.h"

namespace scenery::train {

struct ValidationPictures {
  cv::Mat confusion;             // classifiers; empty for parsing
  std::vector<cv::Mat> samples;  // 8-bit BGR, one per kept image
};

// `capture` as validate() filled it; the model is run once more on its images
// (eval mode, no gradient). `class_names` name the model's classes (may be empty).
ValidationPictures make_validation_pictures(models::SceneModel& model,
                                            const ValidationCapture& capture,
                                            const data::NormalizeParams& normalize,
                                            const eval::SemanticProvider& semantic,
                                            const Hardware& hw,
                                            const std::vector<std::string>& class_names);

// The 8-bit BGR picture of image `i` of a batch as the loader gave it: uint8
// RGB pixels, or ImageNet-normalised floats (undone with `normalize`).
cv::Mat batch_image_bgr(const torch::Tensor& images, int64_t i,
                        const data::NormalizeParams& normalize);

}  // namespace scenery::train
