// torchvision's DenseNet-161 (growth 48, blocks 6/12/36/24, 96 initial
// features), named features.conv0, features.denseblock1.denselayer1.norm1, ...,
// features.norm5, classifier — the names of the Places365 densenet161 release.
#pragma once

#include <torch/torch.h>

#include "models/batch_norm.h"

#include <vector>

namespace scenery::models {

class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int64_t in_features, int64_t growth, int64_t bn_size);
  torch::Tensor forward(const torch::Tensor& x);
  BatchNorm2d norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
};
TORCH_MODULE(DenseLayer);

class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t layers, int64_t in_features, int64_t growth, int64_t bn_size);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

class TransitionImpl : public torch::nn::Module {
 public:
  TransitionImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const torch::Tensor& x);
  BatchNorm2d norm{nullptr};
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Transition);

struct DenseNetOptions {
  int64_t growth = 48;
  std::vector<int64_t> blocks{6, 12, 36, 24};
  int64_t init_features = 96;
  int64_t bn_size = 4;
  int64_t num_classes = 1000;
};

class DenseNetImpl : public torch::nn::Module {
 public:
  explicit DenseNetImpl(const DenseNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  // relu(features(x)): what the classifier's input is the spatial mean of.
  torch::Tensor last_block(const torch::Tensor& x);

  torch::nn::Sequential features{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(DenseNet);

}  // namespace scenery::models
