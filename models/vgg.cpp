#include "models/vgg.h"

namespace scenery::models {
namespace nn = torch::nn;

namespace {
// Output channels per conv, 0 = max-pool ("D" configuration).
const std::vector<int64_t> kConfigD = {64, 64,  0,   128, 128, 0,   256, 256, 256,
                                       0,  512, 512, 512, 0,   512, 512, 512, 0};
}  // namespace

const std::vector<int>& vgg16_conv_indices() {
  static const std::vector<int> indices = [] {
    std::vector<int> out;
    int index = 0;
    for (int64_t c : kConfigD) {
      if (c) out.push_back(index);
      index += c ? 2 : 1;  // conv + relu, or pool
    }
    return out;
  }();
  return indices;
}

VGGImpl::VGGImpl(int64_t num_classes, double dropout) {
  features = register_module("features", nn::Sequential());
  int64_t in = 3;
  for (int64_t c : kConfigD) {
    if (c == 0) {
      features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    } else {
      features->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1)));
      features->push_back(nn::ReLU(nn::ReLUOptions(true)));
      in = c;
    }
  }
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(7)));
  classifier = register_module(
      "classifier",
      nn::Sequential(nn::Linear(512 * 7 * 7, 4096), nn::ReLU(nn::ReLUOptions(true)),  // 0 1
                     nn::Dropout(dropout), nn::Linear(4096, 4096),                    // 2 3
                     nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(dropout),           // 4 5
                     nn::Linear(4096, num_classes)));                                 // 6
  // torchvision's initialisation.
  torch::NoGradGuard no_grad;
  for (auto& m : modules(false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      nn::init::zeros_(conv->bias);
    } else if (auto* fc = m->as<nn::Linear>()) {
      nn::init::normal_(fc->weight, 0.0, 0.01);
      nn::init::zeros_(fc->bias);
    }
  }
}

torch::Tensor VGGImpl::forward(const torch::Tensor& x) {
  return classifier->forward(avgpool(features->forward(x)).flatten(1));
}

}  // namespace scenery::models
