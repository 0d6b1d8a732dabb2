// Class activation maps (Zhou et al., "Learning Deep Features for
// Discriminative Localization", 2016) computed as the Places365 demo computes
// them, step for step, so a map made here equals the demo's:
//   cam = w_c . F (F: K x h x w features of the last convolutional block, w_c:
//   the classifier row of class c, negative weights set to 0 by default as the
//   demo does), cam -= min, cam /= max, uint8(255 * cam) (truncated), resized
//   bilinearly to 256 x 256 and then to the image size (OpenCV INTER_LINEAR),
//   JET colour map, blended as 0.4 * heat + 0.5 * image (BGR).
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

namespace scenery::inspect {

// The demo's intermediate map size.
constexpr int kCamUpsampleSize = 256;

// The h x w uint8 map of one class. `features`: K x h x w (float32, any device);
// `class_weights`: the classifier row (K). A constant map (max = min) is all
// zeros: the demo would divide by zero there.
cv::Mat class_activation_map(const torch::Tensor& features, const torch::Tensor& class_weights,
                             bool clamp_negative = true);
// The maps of several classes of one image at once: `class_weights` C x K;
// returns C maps, each as class_activation_map would.
std::vector<cv::Mat> class_activation_maps(const torch::Tensor& features,
                                           const torch::Tensor& class_weights,
                                           bool clamp_negative = true);

// uint8 map -> 256 x 256 -> `image_size`, both bilinear.
cv::Mat upsample_activation(const cv::Mat& cam8, cv::Size image_size);

// JET(heat) * 0.4 + image * 0.5, rounded and saturated to uint8 as OpenCV's
// imwrite does with the demo's float64 result. `heat8` and `image_bgr` share a size.
cv::Mat render_activation(const cv::Mat& heat8, const cv::Mat& image_bgr);

// The CAM paper's localisation: the box around the largest 8-connected
// component of the pixels above `fraction` of the map's maximum. Empty for a
// map that is zero everywhere.
cv::Rect localisation_box(const cv::Mat& heat8, double fraction = 0.2);

}  // namespace scenery::inspect
