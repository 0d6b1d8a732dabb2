// Scene parsing network for ADE20K-150 in the shape of the CSAIL
// semantic-segmentation baselines (resnet*dilated + ppm_deepsup):
//  - encoder: a torchvision-named ResNet-18/50 with layer3/layer4 strides
//    replaced by dilation 2/4 (output stride 8). Unlike CSAIL's ResNets (a
//    three-conv "deep stem"), the stem is torchvision's 7x7 one, so ImageNet or
//    Places365 classification weights initialise the encoder directly;
//  - decoder: pyramid pooling (bins 1, 2, 3, 6; 512 channels each), a 3x3
//    conv+BN+ReLU, dropout 0.1 and a 1x1 classifier; plus a deep-supervision
//    head on layer3 (used for an auxiliary loss, weight 0.4 in CSAIL).
// Logits are upsampled bilinearly to the input size.
#pragma once

#include <torch/torch.h>

#include "models/resnet.h"

namespace scenery::models {

struct ParsingOutput {
  torch::Tensor logits;      // N x classes x H x W
  torch::Tensor aux_logits;  // same size; defined in training mode only
};

class PPMDeepsupImpl : public torch::nn::Module {
 public:
  PPMDeepsupImpl(int64_t num_classes, int64_t fc_dim);
  // (layer4 features, layer3 features) -> (logits, aux logits) at feature size.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& c5, const torch::Tensor& c4);

  torch::nn::ModuleList ppm{nullptr};
  torch::nn::Sequential cbr_deepsup{nullptr};
  torch::nn::Sequential conv_last{nullptr};
  torch::nn::Conv2d conv_last_deepsup{nullptr};
  torch::nn::Dropout2d dropout_deepsup{nullptr};

 private:
  std::vector<int64_t> bins_{1, 2, 3, 6};
};
TORCH_MODULE(PPMDeepsup);

class ParsingNetImpl : public torch::nn::Module {
 public:
  ParsingNetImpl(int depth, int64_t num_classes);
  ParsingOutput forward(const torch::Tensor& image);

  ResNet encoder{nullptr};
  PPMDeepsup decoder{nullptr};
};
TORCH_MODULE(ParsingNet);

}  // namespace scenery::models
