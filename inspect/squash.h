// The whole image resized to S x S, ignoring its aspect ratio: Broden's
// 224 x 224, the unified Places demo's Resize((S, S)). Every inspect tool feeds
// the network this way, so their units, fields and minimal images agree.
#pragma once

#include <torch/torch.h>
#include <opencv2/core.hpp>

#include "data/transforms.h"

namespace scenery::inspect {

inline cv::Mat squash(const cv::Mat& rgb, int side) {
  return data::crop_resize(rgb, data::CropBox{0, 0, rgb.cols, rgb.rows}, cv::Size(side, side));
}

// That image as the network's normalised C x S x S input.
inline torch::Tensor squashed_input(const cv::Mat& rgb, int side,
                                    const data::NormalizeParams& normalize) {
  return data::to_normalized_tensor(squash(rgb, side), normalize);
}

}  // namespace scenery::inspect
