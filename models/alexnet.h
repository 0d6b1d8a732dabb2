// torchvision's AlexNet (the "one weird trick" single-tower variant: 64/192/384/
// 256/256 filters, no LRN, no groups), named features.N / classifier.N.
// Note: the original Caffe AlexNet/CaffeNet (Places205/365-AlexNet .caffemodel)
// is a different network (96/256/384/384/256 filters, grouped convs, LRN); see
// caffe_import.h for what maps onto what.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

class AlexNetImpl : public torch::nn::Module {
 public:
  explicit AlexNetImpl(int64_t num_classes, double dropout = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential features{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(AlexNet);

}  // namespace scenery::models
