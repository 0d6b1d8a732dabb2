#include "inspect/scene_predictor.h"

#include <fmt/core.h>
#include <tbb/parallel_for.h>

#include <algorithm>

#include "core/error.h"
#include "data/decode.h"
#include "inspect/class_activation.h"
#include "inspect/squash.h"

#include <opencv2/imgproc.hpp>

namespace scenery::inspect {

// squash: Resize((224,224)), the unified demo; crop: Resize(256) +
// CenterCrop(224), the basic script.
const Choices<PredictPreprocess>& predict_preprocess_choices() {
  static const Choices<PredictPreprocess> choices{{"squash", PredictPreprocess::kSquash},
                                                  {"crop", PredictPreprocess::kCentreCrop}};
  return choices;
}

PredictPreprocess parse_predict_preprocess(const std::string& name) {
  return predict_preprocess_choices().at("inspect.preprocess", name);
}

const char* predict_preprocess_name(PredictPreprocess p) {
  return predict_preprocess_choices().name_of(p).c_str();
}

ScenePredictor::ScenePredictor(models::SceneModel& model, PredictOptions options,
                               torch::Device device)
    : model_(model), options_(std::move(options)), device_(device) {
  if (model.kind() == models::ModelKind::kParsing) {
    throw ModelError(fmt::format("{} is a scene-parsing network: predict needs a scene classifier",
                                 model.arch()));
  }
  if (computes_maps() || options_.attributes || options_.clamp_classifier)
    model.pooled_classifier();  // throws without one
  pooled_ = model.has_pooled_classifier();
  if (pooled_) {
    weight_ = model.pooled_classifier_weight().to(device_);
    bias_ = model.pooled_classifier_bias().to(device_);
  }
  const int64_t classes = model.num_classes();
  options_.top_k = static_cast<int>(std::clamp<int64_t>(options_.top_k, 1, classes));
  options_.cam_top = static_cast<int>(std::clamp<int64_t>(options_.cam_top, 0, classes));
  for (int64_t c : options_.cam_classes) {
    if (c < 0 || c >= classes) {
      throw ConfigError(fmt::format("cam.classes: class {} is out of range: {} has {} classes", c,
                                    model.arch(), classes));
    }
  }
  if (options_.indoor_outdoor && static_cast<int64_t>(options_.indoor_outdoor->size()) != classes) {
    throw DataError(fmt::format("the indoor/outdoor labels list {} categories, the model has {}",
                                options_.indoor_outdoor->size(), classes));
  }
  if (options_.attributes && options_.attributes->weights.size(1) != weight_.size(1)) {
    throw DataError(fmt::format("the scene attribute matrix has {} columns, the model {} features",
                                options_.attributes->weights.size(1), weight_.size(1)));
  }
}

torch::Tensor ScenePredictor::preprocess(const cv::Mat& rgb) const {
  cv::Mat input;
  if (options_.preprocess == PredictPreprocess::kSquash) {
    input = squash(rgb, options_.input_size);
  } else {
    data::Views views;
    views.image = rgb;
    input = data::eval_transform(views, {options_.resize, options_.input_size}).image;
  }
  return data::to_normalized_tensor(input, options_.normalize);
}

std::vector<ImagePrediction> ScenePredictor::predict(const torch::Tensor& inputs,
                                                     const std::vector<cv::Size>& sizes) {
  if (inputs.size(0) != static_cast<int64_t>(sizes.size())) {
    throw EvalError(
        fmt::format("predict: {} inputs but {} image sizes", inputs.size(0), sizes.size()));
  }
  torch::NoGradGuard no_grad;
  model_.eval();
  const auto x = inputs.to(device_).contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor features, pooled, logits;
  if (pooled_) {
    // One pass gives the logits and what maps and attributes are made of; the
    // spatial mean is the network's own global average pooling.
    features = model_.pooled_classifier().features(x);
    pooled = features.mean({2, 3});
    logits = torch::addmm(bias_, pooled,
                          options_.clamp_classifier ? weight_.clamp_min(0).t() : weight_.t());
  } else {
    logits = model_.forward(x).logits;
  }
  const auto probabilities = torch::softmax(logits.to(torch::kFloat32), 1).cpu();
  const auto [sorted, order] = probabilities.sort(1, /*descending=*/true);
  const auto sorted_c = sorted.contiguous();
  const auto order_c = order.contiguous();
  const torch::Tensor features_cpu = computes_maps() ? features.cpu() : torch::Tensor();
  const torch::Tensor pooled_cpu = pooled.defined() ? pooled.cpu() : torch::Tensor();
  const torch::Tensor weight_cpu = weight_.defined() ? weight_.cpu() : torch::Tensor();

  const int64_t n = inputs.size(0), classes = probabilities.size(1);
  std::vector<ImagePrediction> out(static_cast<size_t>(n));
  tbb::parallel_for(int64_t{0}, n, [&](int64_t i) {
    ImagePrediction& p = out[static_cast<size_t>(i)];
    const int64_t* ranked = order_c[i].data_ptr<int64_t>();
    const float* probs = sorted_c[i].data_ptr<float>();
    p.top_classes.assign(ranked, ranked + options_.top_k);
    p.top_probabilities.assign(probs, probs + options_.top_k);
    if (options_.indoor_outdoor) {
      p.indoor_outdoor =
          vote_indoor_outdoor(*options_.indoor_outdoor, ranked,
                              static_cast<int>(std::min<int64_t>(options_.io_top, classes)));
    }
    if (options_.attributes)
      p.attributes = top_attributes(*options_.attributes, pooled_cpu[i], options_.attribute_top);
    if (!computes_maps()) return;
    std::vector<int64_t> classes_for_maps(ranked, ranked + options_.cam_top);
    for (int64_t c : options_.cam_classes) {
      if (std::find(classes_for_maps.begin(), classes_for_maps.end(), c) == classes_for_maps.end())
        classes_for_maps.push_back(c);
    }
    const auto rows = weight_cpu.index_select(0, torch::tensor(classes_for_maps, torch::kInt64));
    const auto maps = class_activation_maps(features_cpu[i], rows, options_.clamp_negative);
    for (size_t m = 0; m < maps.size(); ++m) {
      ClassActivation a;
      a.class_index = classes_for_maps[m];
      a.heat = upsample_activation(maps[m], sizes[static_cast<size_t>(i)]);
      a.box = localisation_box(a.heat, options_.box_fraction);
      p.activations.push_back(std::move(a));
    }
  });
  return out;
}

DecodedBatch decode_batch(const ScenePredictor& predictor,
                          const std::vector<std::filesystem::path>& files, int64_t max_pixels) {
  const size_t n = files.size();
  std::vector<cv::Mat> images(n);
  std::vector<torch::Tensor> tensors(n);
  std::vector<std::string> errors(n);
  tbb::parallel_for(size_t{0}, n, [&](size_t i) {
    try {
      images[i] = data::decode_rgb(files[i], max_pixels);
      tensors[i] = predictor.preprocess(images[i]);
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  });
  DecodedBatch out;
  std::vector<torch::Tensor> kept;
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      out.failures.emplace_back(i, errors[i]);
      continue;
    }
    out.kept.push_back(i);
    out.images.push_back(images[i]);
    out.sizes.push_back(images[i].size());
    kept.push_back(tensors[i]);
  }
  if (!kept.empty()) out.inputs = torch::stack(kept);
  return out;
}

cv::Mat render_activation_picture(const cv::Mat& rgb, const ClassActivation& activation,
                                  bool draw_box) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::Mat rendered = render_activation(activation.heat, bgr);
  if (draw_box && !activation.box.empty())
    cv::rectangle(rendered, activation.box, cv::Scalar(255, 255, 255), 2);
  return rendered;
}

}  // namespace scenery::inspect
