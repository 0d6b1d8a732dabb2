#include "train/validation_pictures.h"

#include <fmt/core.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "eval/report.h"
#include "inspect/class_activation.h"

namespace scenery::train {
namespace {

// Pictures smaller than this (training crops can be 48 px) are enlarged to it.
constexpr int kMinSide = 224;

cv::Mat enlarged(const cv::Mat& picture, int interpolation) {
  const int side = std::min(picture.rows, picture.cols);
  if (side >= kMinSide || side == 0) return picture;
  cv::Mat out;
  const double f = static_cast<double>(kMinSide) / side;
  cv::resize(picture, out, cv::Size(), f, f, interpolation);
  return out;
}

std::string name_of(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && k < static_cast<int64_t>(names.size()) ? names[k] : fmt::format("class {}", k);
}

// A white strip under the picture with one line of text.
cv::Mat captioned(const cv::Mat& picture, const std::string& caption) {
  cv::Mat canvas(picture.rows + 24, picture.cols, CV_8UC3, cv::Scalar(255, 255, 255));
  picture.copyTo(canvas(cv::Rect(0, 0, picture.cols, picture.rows)));
  cv::putText(canvas, caption, cv::Point(4, picture.rows + 17), cv::FONT_HERSHEY_SIMPLEX, 0.42,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return canvas;
}

std::vector<cv::Mat> classifier_samples(models::SceneModel& model, const ValidationCapture& capture,
                                        const data::NormalizeParams& normalize,
                                        const eval::SemanticProvider& semantic, const Hardware& hw,
                                        const std::vector<std::string>& names) {
  const auto& kept = capture.first;
  const auto images = images_to_device(kept.images, hw, normalize);
  const auto logits = model.forward(images, semantic(kept, images)).logits.to(torch::kCPU);
  const auto probabilities = logits.to(torch::kFloat).softmax(1);
  const auto top1 = probabilities.argmax(1);
  torch::Tensor features, weights;
  if (model.has_pooled_classifier()) {
    features = model.pooled_classifier().features(images).to(torch::kCPU, torch::kFloat);
    weights = model.pooled_classifier_weight().to(torch::kCPU, torch::kFloat);
  }
  std::vector<cv::Mat> out;
  for (int64_t i = 0; i < images.size(0); ++i) {
    const int64_t predicted = top1[i].item<int64_t>();
    cv::Mat picture = enlarged(batch_image_bgr(kept.images, i, normalize), cv::INTER_LINEAR);
    if (features.defined() && predicted < weights.size(0)) {
      const cv::Mat cam = inspect::class_activation_map(features[i], weights[predicted]);
      picture =
          inspect::render_activation(inspect::upsample_activation(cam, picture.size()), picture);
    }
    const int64_t truth = kept.labels.defined() ? kept.labels[i].item<int64_t>() : -1;
    out.push_back(
        captioned(picture, fmt::format("{} {:.2f} | truth: {}", name_of(names, predicted),
                                       probabilities[i][predicted].item<float>(),
                                       truth >= 0 ? name_of(names, truth) : std::string("?"))));
  }
  return out;
}

std::vector<cv::Mat> parsing_samples(models::SceneModel& model, const ValidationCapture& capture,
                                     const data::NormalizeParams& normalize, const Hardware& hw) {
  const auto& kept = capture.first;
  const auto images = images_to_device(kept.images, hw, normalize);
  const auto predicted = model.forward(images).logits.argmax(1).add(1).to(torch::kCPU);
  std::vector<cv::Mat> out;
  for (int64_t i = 0; i < images.size(0); ++i) {
    std::vector<cv::Mat> row = {batch_image_bgr(kept.images, i, normalize),
                                colour_mask(predicted[i])};
    if (kept.masks.defined()) row.push_back(colour_mask(kept.masks[i]));
    for (size_t k = 1; k < row.size(); ++k)
      if (row[k].size() != row[0].size())
        cv::resize(row[k], row[k], row[0].size(), 0, 0, cv::INTER_NEAREST);
    cv::Mat strip;
    cv::hconcat(row, strip);
    out.push_back(captioned(enlarged(strip, cv::INTER_NEAREST),
                            "image | prediction | truth (black: unlabelled)"));
  }
  return out;
}

}  // namespace

cv::Mat batch_image_bgr(const torch::Tensor& images, int64_t i,
                        const data::NormalizeParams& normalize) {
  torch::Tensor image = images[i].to(torch::kCPU);  // 3 x H x W, RGB
  if (image.scalar_type() != torch::kUInt8) {
    const auto mean = torch::tensor({normalize.mean[0], normalize.mean[1], normalize.mean[2]});
    const auto std = torch::tensor({normalize.std[0], normalize.std[1], normalize.std[2]});
    image = (image.to(torch::kFloat) * std.view({3, 1, 1}) + mean.view({3, 1, 1}))
                .mul(255)
                .round()
                .clamp(0, 255)
                .to(torch::kUInt8);
  }
  image = image.permute({1, 2, 0}).contiguous();  // H x W x RGB
  cv::Mat rgb(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC3,
              image.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
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

ValidationPictures make_validation_pictures(models::SceneModel& model,
                                            const ValidationCapture& capture,
                                            const data::NormalizeParams& normalize,
                                            const eval::SemanticProvider& semantic,
                                            const Hardware& hw,
                                            const std::vector<std::string>& class_names) {
  ValidationPictures pictures;
  if (capture.meter) pictures.confusion = eval::confusion_picture(*capture.meter, class_names);
  if (!capture.first.images.defined() || capture.first.images.dim() != 4) return pictures;
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  pictures.samples = model.kind() == models::ModelKind::kParsing
                         ? parsing_samples(model, capture, normalize, hw)
                         : classifier_samples(model, capture, normalize, semantic, hw, class_names);
  model.train(was_training);
  return pictures;
}

}  // namespace scenery::train
