#include "models/densenet.h"

namespace scenery::models {
namespace nn = torch::nn;

DenseLayerImpl::DenseLayerImpl(int64_t in_features, int64_t growth, int64_t bn_size)
    : norm1(register_module("norm1", BatchNorm2d(in_features))),
      norm2(register_module("norm2", BatchNorm2d(bn_size * growth))),
      conv1(register_module(
          "conv1", nn::Conv2d(nn::Conv2dOptions(in_features, bn_size * growth, 1).bias(false)))),
      conv2(register_module(
          "conv2",
          nn::Conv2d(nn::Conv2dOptions(bn_size * growth, growth, 3).padding(1).bias(false)))) {}

torch::Tensor DenseLayerImpl::forward(const torch::Tensor& x) {
  auto y = conv1(torch::relu(norm1(x)));
  return conv2(torch::relu(norm2(y)));
}

DenseBlockImpl::DenseBlockImpl(int64_t layers, int64_t in_features, int64_t growth,
                               int64_t bn_size) {
  for (int64_t i = 0; i < layers; ++i) {
    layers_.push_back(register_module("denselayer" + std::to_string(i + 1),
                                      DenseLayer(in_features + i * growth, growth, bn_size)));
  }
}

torch::Tensor DenseBlockImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> features{x};
  for (auto& layer : layers_)
    features.push_back(layer->forward(torch::cat(features, 1)));
  return torch::cat(features, 1);
}

TransitionImpl::TransitionImpl(int64_t in_features, int64_t out_features)
    : norm(register_module("norm", BatchNorm2d(in_features))),
      conv(register_module(
          "conv", nn::Conv2d(nn::Conv2dOptions(in_features, out_features, 1).bias(false)))) {}

torch::Tensor TransitionImpl::forward(const torch::Tensor& x) {
  return torch::avg_pool2d(conv(torch::relu(norm(x))), 2, 2);
}

DenseNetImpl::DenseNetImpl(const DenseNetOptions& o) {
  features = register_module("features", nn::Sequential());
  features->push_back(
      "conv0",
      nn::Conv2d(nn::Conv2dOptions(3, o.init_features, 7).stride(2).padding(3).bias(false)));
  features->push_back("norm0", BatchNorm2d(o.init_features));
  features->push_back("relu0", nn::ReLU(nn::ReLUOptions(true)));
  features->push_back("pool0", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t n = o.init_features;
  for (size_t i = 0; i < o.blocks.size(); ++i) {
    features->push_back("denseblock" + std::to_string(i + 1),
                        DenseBlock(o.blocks[i], n, o.growth, o.bn_size));
    n += o.blocks[i] * o.growth;
    if (i + 1 != o.blocks.size()) {
      features->push_back("transition" + std::to_string(i + 1), Transition(n, n / 2));
      n /= 2;
    }
  }
  features->push_back("norm5", BatchNorm2d(n));
  classifier = register_module("classifier", nn::Linear(n, o.num_classes));
  // torchvision's initialisation.
  torch::NoGradGuard no_grad;
  for (auto& m : modules(false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight);
    } else if (auto* fc = m->as<nn::Linear>()) {
      nn::init::zeros_(fc->bias);
    }
  }
}

torch::Tensor DenseNetImpl::last_block(const torch::Tensor& x) {
  return torch::relu(features->forward(x));
}

torch::Tensor DenseNetImpl::forward(const torch::Tensor& x) {
  return classifier(torch::adaptive_avg_pool2d(last_block(x), {1, 1}).flatten(1));
}

}  // namespace scenery::models
