// The two-branch Semantic-Aware scene recognition network (López-Cifuentes et
// al., "Semantic-Aware Scene Recognition", Pattern Recognition 2020):
//  - RGB branch: a ResNet-18/50 body (stem, layer1..4) on the image;
//  - semantic branch: a 7x7 stem on the (150+2)-channel semantic map, then three
//    strided 3x3 conv+BN blocks, each re-weighted by CBAM-style channel attention
//    before its ReLU;
//  - attention fusion: two unpadded 3x3 conv+BN+ReLU on each branch (ResNet-18:
//    RGB 512->512->1024; ResNet-50: 2048->1024->1024; semantic 512->512->1024),
//    then rgb * sigmoid(sem), average pool, dropout 0.3 and the scene classifier;
//  - two auxiliary classifiers, on pooled RGB (fc_RGB) and semantic (fc_SEM)
//    features, used for the auxiliary losses.
// Attribute names follow the authors' release (in_block, encoder1..4,
// in_block_sem, in_block_sem_1..3, lastConvRGB1/2, lastConvSEM1/2, fc, fc_RGB,
// fc_SEM) so their published state dicts load by name.
#pragma once

#include <torch/torch.h>

#include "models/batch_norm.h"

#include "models/resnet.h"
#include "models/semantic_map.h"

namespace scenery::models {

// Which parts a forward evaluates.
enum class BranchMode { kBoth, kRgbOnly, kSemanticOnly };

struct SASceneOutput {
  torch::Tensor logits;      // fused (undefined in single-branch modes)
  torch::Tensor rgb_logits;  // auxiliary RGB-only head (undefined in kSemanticOnly)
  torch::Tensor sem_logits;  // auxiliary semantic-only head (undefined in kRgbOnly)
};

// Channel attention of CBAM (Woo et al. 2018): a shared two-layer 1x1-conv MLP
// on average- and max-pooled descriptors, summed, through a sigmoid.
class ChannelAttentionImpl : public torch::nn::Module {
 public:
  explicit ChannelAttentionImpl(int64_t channels, int64_t ratio = 16);
  torch::Tensor forward(const torch::Tensor& x);  // N x C x 1 x 1 weights
  torch::nn::Conv2d fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ChannelAttention);

class SemanticBlockImpl : public torch::nn::Module {
 public:
  SemanticBlockImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  BatchNorm2d bn{nullptr};
  ChannelAttention ca{nullptr};
};
TORCH_MODULE(SemanticBlock);

struct SASceneOptions {
  int depth = 18;  // ResNet-18 or -50 RGB branch
  int64_t num_classes = 1055;
  int64_t semantic_channels = 152;  // 150 ADE classes + 2 (see FORMATS.md)
  double dropout = 0.3;
};

class SASceneNetImpl : public torch::nn::Module {
 public:
  explicit SASceneNetImpl(const SASceneOptions& options);
  // Inputs of at least 160 px: the unpadded fusion convs need a 5x5 layer4 map
  // (the authors train and test at 224).
  // `semantic`: dense [N,152,H,W] or slots (models/semantic_map.h), same result.
  SASceneOutput forward(const torch::Tensor& image, const SemanticMap& semantic,
                        BranchMode mode = BranchMode::kBoth);
  // The RGB branch's encoder4 output, whose average feeds fc_RGB.
  torch::Tensor rgb_features(const torch::Tensor& image);

  torch::nn::Sequential in_block{nullptr};
  torch::nn::Sequential encoder1{nullptr}, encoder2{nullptr}, encoder3{nullptr}, encoder4{nullptr};
  torch::nn::Sequential in_block_sem{nullptr};
  SemanticBlock in_block_sem_1{nullptr}, in_block_sem_2{nullptr}, in_block_sem_3{nullptr};
  torch::nn::Sequential lastConvRGB1{nullptr}, lastConvRGB2{nullptr};
  torch::nn::Sequential lastConvSEM1{nullptr}, lastConvSEM2{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr}, fc_RGB{nullptr}, fc_SEM{nullptr};

 private:
  SASceneOptions options_;
};
TORCH_MODULE(SASceneNet);

}  // namespace scenery::models
