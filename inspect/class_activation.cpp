#include "inspect/class_activation.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace scenery::inspect {

std::vector<cv::Mat> class_activation_maps(const torch::Tensor& features,
                                           const torch::Tensor& class_weights,
                                           bool clamp_negative) {
  if (features.dim() != 3 || class_weights.dim() != 2 ||
      class_weights.size(1) != features.size(0)) {
    throw EvalError(fmt::format(
        "class activation maps need K x h x w features and C x K weights, got {} and {}",
        fmt::join(features.sizes(), "x"), fmt::join(class_weights.sizes(), "x")));
  }
  torch::NoGradGuard no_grad;
  const int64_t k = features.size(0), h = features.size(1), w = features.size(2);
  auto weights = class_weights.to(torch::kCPU, torch::kFloat32);
  if (clamp_negative) weights = weights.clamp_min(0);
  // float32 throughout, as numpy's float32 dot in the demo.
  const auto f = features.to(torch::kCPU, torch::kFloat32).contiguous().view({k, h * w});
  auto cams = torch::mm(weights, f).contiguous();  // C x hw
  std::vector<cv::Mat> out;
  out.reserve(static_cast<size_t>(cams.size(0)));
  for (int64_t c = 0; c < cams.size(0); ++c) {
    const float* v = cams[c].data_ptr<float>();
    float lo = v[0];
    for (int64_t i = 1; i < h * w; ++i)
      lo = std::min(lo, v[i]);
    std::vector<float> shifted(static_cast<size_t>(h * w));
    float hi = 0;
    for (int64_t i = 0; i < h * w; ++i) {
      shifted[static_cast<size_t>(i)] = v[i] - lo;
      hi = std::max(hi, shifted[static_cast<size_t>(i)]);
    }
    cv::Mat map(static_cast<int>(h), static_cast<int>(w), CV_8UC1, cv::Scalar(0));
    if (hi > 0) {
      auto* dst = map.ptr<uint8_t>();
      for (int64_t i = 0; i < h * w; ++i) {
        const float scaled = shifted[static_cast<size_t>(i)] / hi;  // float32 division, as numpy
        dst[i] = static_cast<uint8_t>(255.0f * scaled);             // np.uint8 truncates
      }
    }
    out.push_back(map);
  }
  return out;
}

cv::Mat class_activation_map(const torch::Tensor& features, const torch::Tensor& class_weights,
                             bool clamp_negative) {
  return class_activation_maps(features, class_weights.reshape({1, -1}), clamp_negative).front();
}

cv::Mat upsample_activation(const cv::Mat& cam8, cv::Size image_size) {
  cv::Mat fixed, out;
  cv::resize(cam8, fixed, cv::Size(kCamUpsampleSize, kCamUpsampleSize), 0, 0, cv::INTER_LINEAR);
  cv::resize(fixed, out, image_size, 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat render_activation(const cv::Mat& heat8, const cv::Mat& image_bgr) {
  if (heat8.size() != image_bgr.size() || heat8.type() != CV_8UC1 || image_bgr.type() != CV_8UC3) {
    throw EvalError(fmt::format("render_activation: a {}x{} uint8 map and a {}x{} BGR image",
                                heat8.cols, heat8.rows, image_bgr.cols, image_bgr.rows));
  }
  cv::Mat colour, heat64, image64, out;
  cv::applyColorMap(heat8, colour, cv::COLORMAP_JET);
  colour.convertTo(heat64, CV_64F);
  image_bgr.convertTo(image64, CV_64F);
  // The demo's `heatmap * 0.4 + img * 0.5` in float64, then imwrite's convertTo.
  cv::Mat blend = heat64 * 0.4 + image64 * 0.5;
  blend.convertTo(out, CV_8U);
  return out;
}

cv::Rect localisation_box(const cv::Mat& heat8, double fraction) {
  double max_value = 0;
  cv::minMaxLoc(heat8, nullptr, &max_value);
  if (max_value <= 0) return {};
  cv::Mat above = heat8 > fraction * max_value;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(above, labels, stats, centroids, 8, CV_32S);
  int best = -1, best_area = 0;
  for (int i = 1; i < n; ++i) {  // 0 is the background
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (area > best_area) best = i, best_area = area;
  }
  if (best < 0) return {};
  return {stats.at<int>(best, cv::CC_STAT_LEFT), stats.at<int>(best, cv::CC_STAT_TOP),
          stats.at<int>(best, cv::CC_STAT_WIDTH), stats.at<int>(best, cv::CC_STAT_HEIGHT)};
}

}  // namespace scenery::inspect
