#include "models/caffe_import.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include <cmath>
#include <map>

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

// GoogLeNet's blobs map by layer name (models/googlenet_places.h): "" for
// the auxiliary training heads (loss1/*, loss2/*), which are skipped.
std::string googlenet_parameter(const std::string& caffe_name, const std::string& where) {
  if (caffe_name.rfind("loss1/", 0) == 0 || caffe_name.rfind("loss2/", 0) == 0) return "";
  static const std::map<std::string, std::string> fixed = {{"conv1/7x7_s2", "conv1"},
                                                           {"conv2/3x3_reduce", "conv2"},
                                                           {"conv2/3x3", "conv3"},
                                                           {"loss3/classifier", "fc"}};
  if (auto it = fixed.find(caffe_name); it != fixed.end()) return it->second;
  static const std::map<std::string, std::string> branches = {
      {"1x1", "branch1"},          {"3x3_reduce", "branch2.0"}, {"3x3", "branch2.1"},
      {"5x5_reduce", "branch3.0"}, {"5x5", "branch3.1"},        {"pool_proj", "branch4"}};
  const auto slash = caffe_name.find('/');
  if (caffe_name.rfind("inception_", 0) == 0 && slash == 12) {
    if (auto it = branches.find(caffe_name.substr(slash + 1)); it != branches.end())
      return "inception" + caffe_name.substr(10, 2) + "." + it->second;
  }
  throw ModelError(
      fmt::format("{}: layer '{}' is not part of the BVLC GoogLeNet (conv1/7x7_s2, conv2/*, "
                  "inception_3a..5b/*, loss3/classifier)",
                  where, caffe_name));
}

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
  if (arch == "googlenet_places") return {};  // by name: googlenet_parameter
  throw ModelError(fmt::format(
      "Caffe import supports caffenet, alexnet, vgg16 and googlenet_places, not '{}'", arch));
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
  std::vector<std::string> conv_names, linear_names;
  const bool googlenet = model.arch() == "googlenet_places";
  for (const auto& l : layers) {
    if (googlenet) {
      if (l.type != "Convolution" && l.type != "InnerProduct") continue;
      const std::string ours = googlenet_parameter(l.name, where);
      if (ours.empty()) continue;  // an auxiliary head
      (l.type == "Convolution" ? convs : linears).push_back(&l);
      (l.type == "Convolution" ? conv_names : linear_names).push_back(ours);
      continue;
    }
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
  if (!googlenet) {
    conv_names = mapping.convs;
    linear_names = mapping.linears;
  }
  const size_t model_convs = googlenet ? 57 : mapping.convs.size();
  const size_t model_linears = googlenet ? 1 : mapping.linears.size();
  if (convs.size() != model_convs || linears.size() != model_linears) {
    throw ModelError(fmt::format("{}: {} convolutions and {} inner products, but {} has {} and {}",
                                 where, convs.size(), linears.size(), model.arch(), model_convs,
                                 model_linears));
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
    assign(*convs[i], conv_names[i], googlenet ? conv_names[i] == "conv1" : i == 0);
  for (size_t i = 0; i < linears.size(); ++i)
    assign(*linears[i], linear_names[i], false);
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
