#include "models/googlenet_places.h"

namespace scenery::models {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad));
}

}  // namespace

// Caffe rounds pooled sizes up (112 -> 56 -> 28 -> 14 -> 7).
torch::Tensor caffe_max_pool(const torch::Tensor& x) {
  return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).ceil_mode(true));
}

// Caffe's ACROSS_CHANNELS LRN of the BVLC GoogLeNet: size 5, alpha 1e-4, beta 0.75, k 1.
torch::Tensor caffe_lrn(const torch::Tensor& x) {
  return F::local_response_norm(x, F::LocalResponseNormFuncOptions(5).alpha(1e-4).beta(0.75).k(1));
}

CaffeInceptionImpl::CaffeInceptionImpl(const InceptionWidths& w) : out_(w.b1 + w.b2 + w.b3 + w.b4) {
  branch1 = register_module("branch1", conv(w.in, w.b1, 1));
  // reduce, then the 3x3 / 5x5: indices 0 and 1 as torchvision's; ReLUs in forward().
  branch2 = register_module(
      "branch2", nn::Sequential(conv(w.in, w.b2_reduce, 1), conv(w.b2_reduce, w.b2, 3, 1, 1)));
  branch3 = register_module(
      "branch3", nn::Sequential(conv(w.in, w.b3_reduce, 1), conv(w.b3_reduce, w.b3, 5, 1, 2)));
  branch4 = register_module("branch4", conv(w.in, w.b4, 1));
}

namespace {

torch::Tensor reduce_then_conv(torch::nn::Sequential& branch, const torch::Tensor& x) {
  auto y = torch::relu(branch[0]->as<nn::Conv2d>()->forward(x));
  return torch::relu(branch[1]->as<nn::Conv2d>()->forward(y));
}

}  // namespace

torch::Tensor CaffeInceptionImpl::forward(const torch::Tensor& x) {
  // Caffe pads max-pooling with -inf, as torch does.
  auto pooled = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
  return torch::cat({torch::relu(branch1(x)), reduce_then_conv(branch2, x),
                     reduce_then_conv(branch3, x), torch::relu(branch4(pooled))},
                    1);
}

GoogLeNetPlacesImpl::GoogLeNetPlacesImpl(int64_t num_classes) {
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  conv2 = register_module("conv2", conv(64, 64, 1));
  conv3 = register_module("conv3", conv(64, 192, 3, 1, 1));
  auto inception = [this](const char* name, InceptionWidths w) {
    return register_module(name, CaffeInception(w));
  };
  inception3a = inception("inception3a", {192, 64, 96, 128, 16, 32, 32});
  inception3b = inception("inception3b", {256, 128, 128, 192, 32, 96, 64});
  inception4a = inception("inception4a", {480, 192, 96, 208, 16, 48, 64});
  inception4b = inception("inception4b", {512, 160, 112, 224, 24, 64, 64});
  inception4c = inception("inception4c", {512, 128, 128, 256, 24, 64, 64});
  inception4d = inception("inception4d", {512, 112, 144, 288, 32, 64, 64});
  inception4e = inception("inception4e", {528, 256, 160, 320, 32, 128, 128});
  inception5a = inception("inception5a", {832, 256, 160, 320, 32, 128, 128});
  inception5b = inception("inception5b", {832, 384, 192, 384, 48, 128, 128});
  dropout = register_module("dropout", nn::Dropout(0.4));
  fc = register_module("fc", nn::Linear(1024, num_classes));
  // BVLC's initialisation: Xavier filters, biases 0.2 (0 for the classifier).
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::xavier_uniform_(c->weight);
      nn::init::constant_(c->bias, 0.2);
    }
  }
  nn::init::xavier_uniform_(fc->weight);
  nn::init::zeros_(fc->bias);
}

torch::Tensor GoogLeNetPlacesImpl::last_block(const torch::Tensor& x) {
  auto y = caffe_lrn(caffe_max_pool(torch::relu(conv1(x))));
  y = caffe_max_pool(caffe_lrn(torch::relu(conv3(torch::relu(conv2(y))))));
  y = caffe_max_pool(inception3b(inception3a(y)));
  y = inception4c(inception4b(inception4a(y)));
  y = caffe_max_pool(inception4e(inception4d(y)));
  return inception5b(inception5a(y));
}

torch::Tensor GoogLeNetPlacesImpl::forward(const torch::Tensor& x) {
  // pool5/7x7_s1 averages the whole 7 x 7 map at 224 px.
  const auto pooled = last_block(x).mean({2, 3});
  return fc(dropout(pooled));
}

}  // namespace scenery::models
