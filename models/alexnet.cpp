#include "models/alexnet.h"

namespace scenery::models {
namespace nn = torch::nn;

AlexNetImpl::AlexNetImpl(int64_t num_classes, double dropout) {
  auto conv = [](int64_t in, int64_t out, int64_t k, int64_t s, int64_t p) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(s).padding(p));
  };
  auto relu = [] { return nn::ReLU(nn::ReLUOptions(true)); };
  auto pool = [] { return nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)); };
  features = register_module("features",
                             nn::Sequential(conv(3, 64, 11, 4, 2), relu(), pool(),      // 0 1 2
                                            conv(64, 192, 5, 1, 2), relu(), pool(),     // 3 4 5
                                            conv(192, 384, 3, 1, 1), relu(),            // 6 7
                                            conv(384, 256, 3, 1, 1), relu(),            // 8 9
                                            conv(256, 256, 3, 1, 1), relu(), pool()));  // 10 11 12
  // Adaptive pooling lets inputs other than 224 through (tests run at 64 px).
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(6)));
  classifier = register_module(
      "classifier",
      nn::Sequential(nn::Dropout(dropout), nn::Linear(256 * 6 * 6, 4096), relu(),  // 0 1 2
                     nn::Dropout(dropout), nn::Linear(4096, 4096), relu(),         // 3 4 5
                     nn::Linear(4096, num_classes)));                              // 6
}

torch::Tensor AlexNetImpl::forward(const torch::Tensor& x) {
  return classifier->forward(avgpool(features->forward(x)).flatten(1));
}

}  // namespace scenery::models
