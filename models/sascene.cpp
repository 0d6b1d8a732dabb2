#include "models/sascene.h"

#include "core/error.h"

namespace scenery::models {
namespace nn = torch::nn;

namespace {

constexpr int64_t kStemStride = 2, kStemPadding = 3;

nn::Sequential stem(int64_t in_channels) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7)
                                       .stride(kStemStride)
                                       .padding(kStemPadding)
                                       .bias(false)),
                        BatchNorm2d(64), nn::ReLU(nn::ReLUOptions(true)),
                        nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
}

// Unpadded: at 224 input the 7x7 maps shrink to 5x5 then 3x3 before pooling.
nn::Sequential conv3x3_bn_relu(int64_t in, int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).bias(false)), BatchNorm2d(out),
                        nn::ReLU(nn::ReLUOptions(true)));
}

torch::Tensor pool(const torch::Tensor& x) {
  return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

}  // namespace

ChannelAttentionImpl::ChannelAttentionImpl(int64_t channels, int64_t ratio)
    : fc1(register_module(
          "fc1", nn::Conv2d(nn::Conv2dOptions(channels, channels / ratio, 1).bias(false)))),
      fc2(register_module(
          "fc2", nn::Conv2d(nn::Conv2dOptions(channels / ratio, channels, 1).bias(false)))) {}

torch::Tensor ChannelAttentionImpl::forward(const torch::Tensor& x) {
  auto avg = fc2(torch::relu(fc1(torch::adaptive_avg_pool2d(x, {1, 1}))));
  auto max = fc2(torch::relu(fc1(std::get<0>(torch::adaptive_max_pool2d(x, {1, 1})))));
  return torch::sigmoid(avg + max);
}

SemanticBlockImpl::SemanticBlockImpl(int64_t in, int64_t out)
    : conv(register_module(
          "conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(false)))),
      bn(register_module("bn", BatchNorm2d(out))),
      ca(register_module("ca", ChannelAttention(out))) {}

torch::Tensor SemanticBlockImpl::forward(const torch::Tensor& x) {
  // Attention on the normalised responses, before the ReLU (as published):
  // negative responses still inform the channel weights.
  auto y = bn(conv(x));
  return (ca(y) * y).relu_();
}

SASceneNetImpl::SASceneNetImpl(const SASceneOptions& options) : options_(options) {
  if (options.depth != 18 && options.depth != 50) {
    throw ModelError("the Semantic-Aware network has ResNet-18 or ResNet-50 RGB branches");
  }
  // The RGB body is built as a ResNet and its stages re-registered under the
  // published names, so the ResNet code (and torchvision weights for
  // layer1..4 = encoder1..4) is shared.
  auto body = ResNet(resnet_options(options.depth, options.num_classes));
  in_block = register_module("in_block", stem(3));
  encoder1 = register_module("encoder1", body->layer1);
  encoder2 = register_module("encoder2", body->layer2);
  encoder3 = register_module("encoder3", body->layer3);
  encoder4 = register_module("encoder4", body->layer4);
  const int64_t rgb_dim = body->feature_dim();

  in_block_sem = register_module("in_block_sem", stem(options.semantic_channels));
  in_block_sem_1 = register_module("in_block_sem_1", SemanticBlock(64, 128));
  in_block_sem_2 = register_module("in_block_sem_2", SemanticBlock(128, 256));
  in_block_sem_3 = register_module("in_block_sem_3", SemanticBlock(256, 512));

  // Widths as published: ResNet-18 keeps 512 then widens to 1024; ResNet-50
  // narrows 2048 to 1024 first.
  const int64_t rgb_mid = options.depth == 18 ? 512 : 1024;
  lastConvRGB1 = register_module("lastConvRGB1", conv3x3_bn_relu(rgb_dim, rgb_mid));
  lastConvRGB2 = register_module("lastConvRGB2", conv3x3_bn_relu(rgb_mid, 1024));
  lastConvSEM1 = register_module("lastConvSEM1", conv3x3_bn_relu(512, 512));
  lastConvSEM2 = register_module("lastConvSEM2", conv3x3_bn_relu(512, 1024));

  dropout = register_module("dropout", nn::Dropout(options.dropout));
  fc = register_module("fc", nn::Linear(1024, options.num_classes));
  fc_RGB = register_module("fc_RGB", nn::Linear(rgb_dim, options.num_classes));
  fc_SEM = register_module("fc_SEM", nn::Linear(512, options.num_classes));
  init_resnet_weights(*this);
}

torch::Tensor SASceneNetImpl::rgb_features(const torch::Tensor& image) {
  return encoder4->forward(
      encoder3->forward(encoder2->forward(encoder1->forward(in_block->forward(image)))));
}

SASceneOutput SASceneNetImpl::forward(const torch::Tensor& image, const SemanticMap& semantic,
                                      BranchMode mode) {
  SASceneOutput out;
  torch::Tensor rgb, sem;
  if (mode != BranchMode::kSemanticOnly) {
    if (!image.defined()) throw ModelError("the RGB branch needs an image batch");
    rgb = rgb_features(image);
    out.rgb_logits = fc_RGB(dropout(pool(rgb)));
  }
  if (mode != BranchMode::kRgbOnly) {
    if (!semantic.defined()) {
      throw ModelError("the semantic branch needs an N x " +
                       std::to_string(options_.semantic_channels) + " x H x W semantic map");
    }
    // The stem's convolution reads slot maps directly; BN, ReLU and pool follow.
    const auto& conv = in_block_sem[0]->as<nn::Conv2d>();
    auto x = semantic_conv2d(semantic, conv->weight, kStemStride, kStemPadding);
    for (auto it = in_block_sem->begin() + 1; it != in_block_sem->end(); ++it)
      x = it->forward(x);
    sem = in_block_sem_3(in_block_sem_2(in_block_sem_1(x)));
    out.sem_logits = fc_SEM(dropout(pool(sem)));
  }
  if (mode == BranchMode::kBoth) {
    auto r = lastConvRGB2->forward(lastConvRGB1->forward(rgb));
    auto s = lastConvSEM2->forward(lastConvSEM1->forward(sem));
    out.logits = fc(dropout(pool(r * torch::sigmoid(s))));
  }
  return out;
}

}  // namespace scenery::models
