#include "models/caffe_import.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include <cmath>

#include "core/error.h"
#include "core/log.h"

namespace scenery::models {
namespace fs = std::filesystem;

namespace {

struct CaffeLayer {
  std::string name;
  std::string type;
  std::vector<cv::Mat> blobs;
};

// Our parameter names for the Caffe conv / inner-product layers, in order.
struct Mapping {
  std::vector<std::string> convs;
  std::vector<std::string> linears;
};

Mapping mapping_for(const std::string& arch) {
  if (arch == "vgg16") {
    return {{"features.0", "features.2", "features.5", "features.7", "features.10", "features.12",
             "features.14", "features.17", "features.19", "features.21", "features.24",
             "features.26", "features.28"},
            {"classifier.0", "classifier.3", "classifier.6"}};
  }
  if (arch == "alexnet") {
    return {{"features.0", "features.3", "features.6", "features.8", "features.10"},
            {"classifier.1", "classifier.4", "classifier.6"}};
  }
  if (arch == "caffenet") {
    return {{"features.0", "features.4", "features.8", "features.10", "features.12"},
            {"classifier.0", "classifier.3", "classifier.6"}};
  }
  throw ModelError(
      fmt::format("Caffe import supports caffenet, alexnet and vgg16, not '{}'", arch));
}

// The original AlexNet comes in two layer orders; ours (models/caffenet.h) is
// CaffeNet's, the one of the Places releases: conv, ReLU, pool, then LRN.
// Returns the first deviation from that order and those LRN parameters, or "".
std::string caffenet_mismatch(const std::vector<CaffeLayer>& layers,
                              const std::vector<cv::Ptr<cv::dnn::Layer>>& objects) {
  std::vector<std::string> types;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& t = layers[i].type;
    if (t == "Convolution" || t == "Pooling" || t == "LRN" || t == "InnerProduct")
      types.push_back(t);
    if (t == "LRN") {
      const auto* lrn = dynamic_cast<const cv::dnn::LRNLayer*>(objects[i].get());
      if (lrn &&
          (lrn->size != 5 || std::abs(lrn->alpha - 1e-4f) > 1e-9f ||
           std::abs(lrn->beta - 0.75f) > 1e-7f || std::abs(lrn->bias - 1.0f) > 1e-7f ||
           lrn->type != 0 /* OpenCV's CHANNEL_NRM = ACROSS_CHANNELS */ || !lrn->normBySize)) {
        return fmt::format(
            "layer '{}' is an LRN with size {}, alpha {}, beta {}, k {}; caffenet "
            "has across-channel size 5, alpha 1e-4, beta 0.75, k 1",
            layers[i].name, lrn->size, lrn->alpha, lrn->beta, lrn->bias);
      }
    }
  }
  const std::vector<std::string> expected = {
      "Convolution",  "Pooling",      "LRN",         "Convolution", "Pooling",
      "LRN",          "Convolution",  "Convolution", "Convolution", "Pooling",
      "InnerProduct", "InnerProduct", "InnerProduct"};
  if (types != expected) {
    return fmt::format(
        "layer order {} differs from caffenet's {} (an AlexNet with LRN before "
        "pooling is BVLC's variant, not the Places-CNN)",
        fmt::join(types, ","), fmt::join(expected, ","));
  }
  return "";
}

std::vector<CaffeLayer> read_caffe(const fs::path& prototxt, const fs::path& caffemodel,
                                   std::vector<cv::Ptr<cv::dnn::Layer>>* objects) {
  for (const auto& p : {prototxt, caffemodel}) {
    if (!fs::exists(p)) throw CheckpointError(fmt::format("{}: no such file", p.string()));
  }
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromCaffe(prototxt.string(), caffemodel.string());
  } catch (const cv::Exception& e) {
    throw CheckpointError(fmt::format("{} / {}: OpenCV cannot read the Caffe model: {}",
                                      prototxt.string(), caffemodel.string(), e.what()));
  }
  std::vector<CaffeLayer> layers;
  for (const auto& name : net.getLayerNames()) {
    auto layer = net.getLayer(net.getLayerId(name));
    layers.push_back({name, layer->type, layer->blobs});
    objects->push_back(layer);
  }
  return layers;
}

torch::Tensor to_tensor(const cv::Mat& blob) {
  if (blob.depth() != CV_32F) throw CheckpointError("Caffe blob is not float32");
  cv::Mat contiguous = blob.isContinuous() ? blob : blob.clone();
  return torch::from_blob(contiguous.ptr<float>(), {static_cast<int64_t>(contiguous.total())},
                          torch::kFloat)
      .clone();
}

}  // namespace

LoadReport import_caffe_weights(SceneModel& model, const fs::path& prototxt,
                                const fs::path& caffemodel) {
  const Mapping mapping = mapping_for(model.arch());
  std::vector<cv::Ptr<cv::dnn::Layer>> objects;
  const std::vector<CaffeLayer> layers = read_caffe(prototxt, caffemodel, &objects);
  const std::string where = caffemodel.string();
  if (model.arch() == "caffenet") {
    const std::string mismatch = caffenet_mismatch(layers, objects);
    if (!mismatch.empty()) throw ModelError(fmt::format("{}: {}", where, mismatch));
  }

  std::vector<const CaffeLayer*> convs, linears;
  for (const auto& l : layers) {
    if (l.type == "LRN" && model.arch() != "caffenet") {
      throw ModelError(fmt::format(
          "{}: layer '{}' is an LRN: this is the original AlexNet/CaffeNet (96/256/384/384/256 "
          "filters, grouped convs, LRN), which torchvision's {} cannot compute; import it into "
          "model.arch = caffenet",
          where, l.name, model.arch()));
    }
    if (l.type == "Convolution") convs.push_back(&l);
    if (l.type == "InnerProduct") linears.push_back(&l);
  }
  if (convs.size() != mapping.convs.size() || linears.size() != mapping.linears.size()) {
    throw ModelError(fmt::format("{}: {} convolutions and {} inner products, but {} has {} and {}",
                                 where, convs.size(), linears.size(), model.arch(),
                                 mapping.convs.size(), mapping.linears.size()));
  }

  auto params = model.named_parameters();
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // checked first, copied after
  auto assign = [&](const CaffeLayer& layer, const std::string& ours, bool first_conv) {
    if (layer.blobs.size() != 2) {
      throw CheckpointError(fmt::format("{}: layer '{}' has {} blobs, expected weight and bias",
                                        where, layer.name, layer.blobs.size()));
    }
    for (int i = 0; i < 2; ++i) {
      const std::string key = ours + (i == 0 ? ".weight" : ".bias");
      torch::Tensor target = params[key];
      torch::Tensor value = to_tensor(layer.blobs[i]);
      if (value.numel() != target.numel()) {
        // Also what a grouped convolution looks like: in_channels / groups per filter.
        throw CheckpointError(fmt::format(
            "{}: layer '{}' blob {} has {} values, {} ({}) needs {}{}", where, layer.name, i,
            value.numel(), key, fmt::join(target.sizes(), "x"), target.numel(),
            layer.type == "Convolution" ? " (grouped convolutions do not map)" : ""));
      }
      value = value.view(target.sizes());
      if (first_conv && i == 0) value = value.flip({1});  // BGR -> RGB input channels
      copies.emplace_back(target, value);
      report.loaded.push_back(fmt::format("{} <- {}[{}]", key, layer.name, i));
    }
  };
  for (size_t i = 0; i < convs.size(); ++i)
    assign(*convs[i], mapping.convs[i], i == 0);
  for (size_t i = 0; i < linears.size(); ++i)
    assign(*linears[i], mapping.linears[i], false);
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies)
    target.copy_(value);
  log::info("{}: imported {} Caffe blobs into {}", where, copies.size(), model.arch());
  return report;
}

void caffe_input_normalization(const std::array<double, 3>& mean_bgr, CheckpointMeta& meta) {
  // 255 * x - m == (x - m / 255) / (1 / 255), channel order RGB.
  meta.input_mean = {mean_bgr[2] / 255.0, mean_bgr[1] / 255.0, mean_bgr[0] / 255.0};
  meta.input_std = {1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0};
}

}  // namespace scenery::models
