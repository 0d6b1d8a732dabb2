// torchvision's VGG16 (configuration "D", no batch norm), named features.N /
// classifier.N. With 365 classes it has 135,755,949 parameters, the same
// network as the Caffe and Keras VGG16-Places365 releases.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

class VGGImpl : public torch::nn::Module {
 public:
  explicit VGGImpl(int64_t num_classes, double dropout = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential features{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(VGG);

// Index in `features` of each of the 13 convolutions (conv1_1 .. conv5_3).
const std::vector<int>& vgg16_conv_indices();

}  // namespace scenery::models
