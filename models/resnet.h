// ResNet-18/34/50/101 and the Places365 `wideresnet18`, with module names equal
// to torchvision's (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc, ...)
// so a torchvision or Places365 state dict loads by name.
//
// Two extensions torchvision lacks, both off by default:
//  - `max_pool = false` drops the stem max-pool (the Places365 wideresnet18:
//    layer4 is 14x14 at 224 input);
//  - `dilate_layer3/4` replace the stride of a stage by dilation, as the CSAIL
//    scene-parsing encoders do (output stride 8). BasicBlock supports it too.
#pragma once

#include <torch/torch.h>

#include "models/batch_norm.h"

#include <cstdint>
#include <vector>

#include "models/winograd_conv.h"

namespace scenery::models {

struct ResNetOptions {
  bool bottleneck = false;  // BasicBlock (18/34) or Bottleneck (50/101)
  std::vector<int64_t> layers{2, 2, 2, 2};
  int64_t num_classes = 1000;
  bool max_pool = true;   // false: wideresnet18
  bool with_head = true;  // false: no avgpool/fc (used as an encoder)
  bool dilate_layer3 = false;
  bool dilate_layer4 = false;
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  // `first_dilation` applies to conv1 (the one that had the stride), `dilation`
  // to conv2, as in CSAIL's _nostride_dilate.
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t first_dilation,
                 int64_t dilation, torch::nn::Sequential downsample);
  torch::Tensor forward(const torch::Tensor& x);

  FastConv2d conv1{nullptr}, conv2{nullptr};  // 3x3: Winograd while training, where on
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  // Stride sits on conv2 (the 3x3), as in torchvision (ResNet v1.5).
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t first_dilation,
                 int64_t dilation, torch::nn::Sequential downsample);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr};
  FastConv2d conv2{nullptr};  // 3x3: Winograd while training, where on
  torch::nn::Conv2d conv3{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options);

  // Logits (requires with_head).
  torch::Tensor forward(const torch::Tensor& x);
  // conv1 .. maxpool.
  torch::Tensor stem(const torch::Tensor& x);
  // The four stages' outputs, for encoders needing intermediate features.
  std::vector<torch::Tensor> stages(const torch::Tensor& stem_output);
  // layer4's output: N x feature_dim x h x w.
  torch::Tensor last_block(const torch::Tensor& x);
  // Globally pooled layer4 features (N x feature_dim).
  torch::Tensor pooled_features(const torch::Tensor& x);

  int64_t feature_dim() const { return feature_dim_; }
  const ResNetOptions& options() const { return options_; }

  torch::nn::Conv2d conv1{nullptr};
  BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  torch::nn::Sequential make_layer(int64_t planes, int64_t blocks, int64_t stride, bool dilate);

  ResNetOptions options_;
  int64_t inplanes_ = 64;
  int64_t dilation_ = 1;
  int64_t feature_dim_ = 512;
};
TORCH_MODULE(ResNet);

// torchvision's depth presets; throws ModelError for other depths.
ResNetOptions resnet_options(int depth, int64_t num_classes);

// torchvision's initialisation: Kaiming-normal (fan_out) convs, BN weight 1 / bias 0.
void init_resnet_weights(torch::nn::Module& module);

}  // namespace scenery::models
