#include "models/parsing_net.h"

#include "core/error.h"

namespace scenery::models {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

nn::Sequential conv_bn_relu(int64_t in, int64_t out, int64_t kernel) {
  return nn::Sequential(
      FastConv2d(nn::Conv2dOptions(in, out, kernel).padding(kernel / 2).bias(false)),
      BatchNorm2d(out), nn::ReLU(nn::ReLUOptions(true)));
}

torch::Tensor upsample(const torch::Tensor& x, at::IntArrayRef size) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>(size.begin(), size.end()))
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

PPMDeepsupImpl::PPMDeepsupImpl(int64_t num_classes, int64_t fc_dim) {
  // Each pyramid level: adaptive pool (index 0, no parameters) + 1x1 conv+BN+ReLU
  // (indices 1, 2, 3), as in CSAIL's decoder.ppm.N.{1,2}.
  ppm = register_module("ppm", nn::ModuleList());
  for (int64_t bin : bins_) {
    ppm->push_back(nn::Sequential(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(bin)),
                                  nn::Conv2d(nn::Conv2dOptions(fc_dim, 512, 1).bias(false)),
                                  BatchNorm2d(512), nn::ReLU(nn::ReLUOptions(true))));
  }
  cbr_deepsup = register_module("cbr_deepsup", conv_bn_relu(fc_dim / 2, fc_dim / 4, 3));
  conv_last = register_module(
      "conv_last",
      nn::Sequential(
          FastConv2d(nn::Conv2dOptions(fc_dim + static_cast<int64_t>(bins_.size()) * 512, 512, 3)
                         .padding(1)
                         .bias(false)),
          BatchNorm2d(512), nn::ReLU(nn::ReLUOptions(true)), nn::Dropout2d(0.1),
          nn::Conv2d(nn::Conv2dOptions(512, num_classes, 1))));
  conv_last_deepsup = register_module("conv_last_deepsup",
                                      nn::Conv2d(nn::Conv2dOptions(fc_dim / 4, num_classes, 1)));
  dropout_deepsup = register_module("dropout_deepsup", nn::Dropout2d(0.1));
}

std::pair<torch::Tensor, torch::Tensor> PPMDeepsupImpl::forward(const torch::Tensor& c5,
                                                                const torch::Tensor& c4) {
  std::vector<torch::Tensor> pyramid{c5};
  for (const auto& level : *ppm) {
    pyramid.push_back(upsample(level->as<nn::Sequential>()->forward(c5), c5.sizes().slice(2)));
  }
  auto logits = conv_last->forward(torch::cat(pyramid, 1));
  torch::Tensor aux;
  if (is_training()) aux = conv_last_deepsup(dropout_deepsup(cbr_deepsup->forward(c4)));
  return {logits, aux};
}

ParsingNetImpl::ParsingNetImpl(int depth, int64_t num_classes) {
  if (depth != 18 && depth != 50) throw ModelError("parsing encoders are ResNet-18 or -50");
  auto o = resnet_options(depth, num_classes);
  o.with_head = false;
  o.dilate_layer3 = true;
  o.dilate_layer4 = true;
  encoder = register_module("encoder", ResNet(o));
  decoder = register_module("decoder", PPMDeepsup(num_classes, encoder->feature_dim()));
}

ParsingOutput ParsingNetImpl::forward(const torch::Tensor& image) {
  auto stages = encoder->stages(encoder->stem(image));
  auto [logits, aux] = decoder->forward(stages[3], stages[2]);
  ParsingOutput out;
  const auto size = image.sizes().slice(2);
  out.logits = upsample(logits, size);
  if (aux.defined()) out.aux_logits = upsample(aux, size);
  return out;
}

}  // namespace scenery::models
