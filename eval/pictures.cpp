#include "eval/pictures.h"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace scenery::eval {

cv::Mat readable_size(const cv::Mat& picture, int interpolation) {
  const int side = std::min(picture.rows, picture.cols);
  if (side == 0) return picture;
  double f = 1.0;
  if (side < kMinPictureSide)
    f = static_cast<double>(kMinPictureSide) / side;
  else if (picture.rows > kMaxPictureHeight)
    f = static_cast<double>(kMaxPictureHeight) / picture.rows;
  if (f == 1.0) return picture;
  cv::Mat out;
  cv::resize(picture, out, cv::Size(), f, f, f > 1 ? interpolation : cv::INTER_AREA);
  return out;
}

cv::Mat captioned(const cv::Mat& picture, const std::string& caption) {
  cv::Mat canvas(picture.rows + 24, picture.cols, CV_8UC3, cv::Scalar(255, 255, 255));
  picture.copyTo(canvas(cv::Rect(0, 0, picture.cols, picture.rows)));
  cv::putText(canvas, caption, cv::Point(4, picture.rows + 17), cv::FONT_HERSHEY_SIMPLEX, 0.42,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return canvas;
}

cv::Mat colour_mask(const torch::Tensor& mask) {
  const auto values = mask.to(torch::kCPU, torch::kInt64).contiguous();
  const int h = static_cast<int>(values.size(0)), w = static_cast<int>(values.size(1));
  cv::Mat hsv(h, w, CV_8UC3);
  const int64_t* v = values.data_ptr<int64_t>();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int64_t k = v[static_cast<int64_t>(y) * w + x];
      // Golden-ratio hue steps: neighbouring class numbers get distant colours.
      const double hue = k > 0 ? std::fmod(static_cast<double>(k) * 0.6180339887, 1.0) : 0.0;
      hsv.at<cv::Vec3b>(y, x) = k > 0 ? cv::Vec3b(static_cast<uint8_t>(hue * 180), 200,
                                                  static_cast<uint8_t>(150 + (k % 3) * 45))
                                      : cv::Vec3b(0, 0, 0);
    }
  }
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  return bgr;
}

cv::Mat parsing_strip(const cv::Mat& image_bgr, const torch::Tensor& predicted,
                      const torch::Tensor& truth) {
  std::vector<cv::Mat> row = {image_bgr, colour_mask(predicted)};
  if (truth.defined()) row.push_back(colour_mask(truth));
  for (size_t k = 1; k < row.size(); ++k)
    if (row[k].size() != row[0].size())
      cv::resize(row[k], row[k], row[0].size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat strip;
  cv::hconcat(row, strip);
  return captioned(
      readable_size(strip, cv::INTER_NEAREST),
      truth.defined() ? "image | prediction | truth (black: unlabelled)" : "image | prediction");
}

}  // namespace scenery::eval
