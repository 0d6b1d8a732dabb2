#include "models/resnet.h"

#include <fmt/core.h>

#include "core/error.h"

namespace scenery::models {
namespace nn = torch::nn;

namespace {

FastConv2d conv3x3(int64_t in, int64_t out, int64_t stride, int64_t dilation) {
  return FastConv2d(nn::Conv2dOptions(in, out, 3)
                        .stride(stride)
                        .padding(dilation)
                        .dilation(dilation)
                        .bias(false));
}

nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride,
                               int64_t first_dilation, int64_t dilation, nn::Sequential downsample_)
    : conv1(register_module("conv1", conv3x3(inplanes, planes, stride, first_dilation))),
      conv2(register_module("conv2", conv3x3(planes, planes, 1, dilation))),
      bn1(register_module("bn1", BatchNorm2d(planes))),
      bn2(register_module("bn2", BatchNorm2d(planes))) {
  if (downsample_) downsample = register_module("downsample", downsample_);
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(out));
  out += downsample ? downsample->forward(x) : x;
  return out.relu_();
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride,
                               int64_t first_dilation, int64_t /*dilation*/,
                               nn::Sequential downsample_)
    : conv1(register_module("conv1", conv1x1(inplanes, planes))),
      conv2(register_module("conv2", conv3x3(planes, planes, stride, first_dilation))),
      conv3(register_module("conv3", conv1x1(planes, planes * kExpansion))),
      bn1(register_module("bn1", BatchNorm2d(planes))),
      bn2(register_module("bn2", BatchNorm2d(planes))),
      bn3(register_module("bn3", BatchNorm2d(planes * kExpansion))) {
  if (downsample_) downsample = register_module("downsample", downsample_);
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(out)).relu_();
  out = bn3(conv3(out));
  out += downsample ? downsample->forward(x) : x;
  return out.relu_();
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  if (options.layers.size() != 4) throw ModelError("ResNet needs 4 stage depths");
  conv1 = register_module("conv1",
                          nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", BatchNorm2d(64));
  layer1 = register_module("layer1", make_layer(64, options.layers[0], 1, false));
  layer2 = register_module("layer2", make_layer(128, options.layers[1], 2, false));
  layer3 = register_module("layer3", make_layer(256, options.layers[2], 2, options.dilate_layer3));
  layer4 = register_module("layer4", make_layer(512, options.layers[3], 2, options.dilate_layer4));
  feature_dim_ = 512 * (options.bottleneck ? BottleneckImpl::kExpansion : 1);
  if (options.with_head) {
    fc = register_module("fc", nn::Linear(feature_dim_, options.num_classes));
  }
  init_resnet_weights(*this);
}

nn::Sequential ResNetImpl::make_layer(int64_t planes, int64_t blocks, int64_t stride, bool dilate) {
  // torchvision's replace_stride_with_dilation: the first block keeps the
  // previous dilation on its strided conv, the stride becomes dilation.
  const int64_t previous_dilation = dilation_;
  if (dilate) {
    dilation_ *= stride;
    stride = 1;
  }
  const int64_t expansion = options_.bottleneck ? BottleneckImpl::kExpansion : 1;
  nn::Sequential downsample{nullptr};
  if (stride != 1 || inplanes_ != planes * expansion) {
    downsample = nn::Sequential(conv1x1(inplanes_, planes * expansion, stride),
                                BatchNorm2d(planes * expansion));
  }
  nn::Sequential layer;
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t s = i == 0 ? stride : 1;
    const int64_t first = i == 0 ? previous_dilation : dilation_;
    auto ds = i == 0 ? downsample : nn::Sequential{nullptr};
    if (options_.bottleneck) {
      layer->push_back(Bottleneck(inplanes_, planes, s, first, dilation_, ds));
    } else {
      layer->push_back(BasicBlock(inplanes_, planes, s, first, dilation_, ds));
    }
    inplanes_ = planes * expansion;
  }
  return layer;
}

torch::Tensor ResNetImpl::stem(const torch::Tensor& x) {
  auto y = bn1(conv1(x)).relu_();
  if (options_.max_pool) y = torch::max_pool2d(y, 3, 2, 1);
  return y;
}

std::vector<torch::Tensor> ResNetImpl::stages(const torch::Tensor& stem_output) {
  std::vector<torch::Tensor> out;
  out.push_back(layer1->forward(stem_output));
  out.push_back(layer2->forward(out.back()));
  out.push_back(layer3->forward(out.back()));
  out.push_back(layer4->forward(out.back()));
  return out;
}

torch::Tensor ResNetImpl::last_block(const torch::Tensor& x) {
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(stem(x)))));
}

torch::Tensor ResNetImpl::pooled_features(const torch::Tensor& x) {
  return torch::adaptive_avg_pool2d(last_block(x), {1, 1}).flatten(1);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) {
  if (!fc) throw ModelError("this ResNet was built without a classifier head");
  return fc(pooled_features(x));
}

ResNetOptions resnet_options(int depth, int64_t num_classes) {
  ResNetOptions o;
  o.num_classes = num_classes;
  switch (depth) {
    case 18:
      o.layers = {2, 2, 2, 2};
      break;
    case 34:
      o.layers = {3, 4, 6, 3};
      break;
    case 50:
      o.layers = {3, 4, 6, 3};
      o.bottleneck = true;
      break;
    case 101:
      o.layers = {3, 4, 23, 3};
      o.bottleneck = true;
      break;
    default:
      throw ModelError(fmt::format("no ResNet of depth {} (known: 18, 34, 50, 101)", depth));
  }
  return o;
}

void init_resnet_weights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

}  // namespace scenery::models
