#include "train/validation_pictures.h"

#include <fmt/core.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "eval/pictures.h"
#include "eval/report.h"
#include "inspect/class_activation.h"

namespace scenery::train {
namespace {

std::string name_of(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && k < static_cast<int64_t>(names.size()) ? names[k] : fmt::format("class {}", k);
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
    cv::Mat picture =
        eval::readable_size(batch_image_bgr(kept.images, i, normalize), cv::INTER_LINEAR);
    if (features.defined() && predicted < weights.size(0)) {
      const cv::Mat cam = inspect::class_activation_map(features[i], weights[predicted]);
      picture =
          inspect::render_activation(inspect::upsample_activation(cam, picture.size()), picture);
    }
    const int64_t truth = kept.labels.defined() ? kept.labels[i].item<int64_t>() : -1;
    out.push_back(eval::captioned(
        picture, fmt::format("{} {:.2f} | truth: {}", name_of(names, predicted),
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
  for (int64_t i = 0; i < images.size(0); ++i)
    out.push_back(eval::parsing_strip(batch_image_bgr(kept.images, i, normalize), predicted[i],
                                      kept.masks.defined() ? kept.masks[i] : torch::Tensor()));
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
