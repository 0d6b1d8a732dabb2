#include "models/caffenet.h"

#include <fmt/core.h>

#include "core/error.h"

namespace scenery::models {
namespace nn = torch::nn;

CaffeNetImpl::CaffeNetImpl(int64_t num_classes, double dropout) {
  auto conv = [](int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t groups) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(s).padding(p).groups(groups));
  };
  auto relu = [] { return nn::ReLU(nn::ReLUOptions(true)); };
  // Caffe rounds pooled sizes up (227 -> 55 -> 27 -> 13 -> 6).
  auto pool = [] { return nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).ceil_mode(true)); };
  // Caffe's ACROSS_CHANNELS LRN: x / (1 + alpha/5 * sum of 5 squares)^beta, as torch's.
  auto lrn = [] {
    return nn::LocalResponseNorm(nn::LocalResponseNormOptions(5).alpha(1e-4).beta(0.75).k(1.0));
  };
  features = register_module(
      "features", nn::Sequential(conv(3, 96, 11, 4, 0, 1), relu(), pool(), lrn(),   // 0-3
                                 conv(96, 256, 5, 1, 2, 2), relu(), pool(), lrn(),  // 4-7
                                 conv(256, 384, 3, 1, 1, 1), relu(),                // 8 9
                                 conv(384, 384, 3, 1, 1, 2), relu(),                // 10 11
                                 conv(384, 256, 3, 1, 1, 2), relu(), pool()));      // 12-14
  classifier = register_module(
      "classifier",
      nn::Sequential(nn::Linear(256 * 6 * 6, 4096), relu(), nn::Dropout(dropout),  // 0 1 2
                     nn::Linear(4096, 4096), relu(), nn::Dropout(dropout),         // 3 4 5
                     nn::Linear(4096, num_classes)));                              // 6
  // Caffe's Places-CNN initialisation: Gaussian filters, constant biases.
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) {
      nn::init::normal_(c->weight, 0.0, 0.01);
      nn::init::zeros_(c->bias);
    } else if (auto* l = m->as<nn::Linear>()) {
      nn::init::normal_(l->weight, 0.0, 0.005);
      nn::init::constant_(l->bias, 0.1);
    }
  }
}

torch::Tensor CaffeNetImpl::forward(const torch::Tensor& x) {
  auto f = features->forward(x);
  if (f.size(2) != 6 || f.size(3) != 6) {
    throw ModelError(fmt::format(
        "caffenet needs a 6x6 pool5 map (227 or 224 px input), got {}x{} from a {}x{} input",
        f.size(2), f.size(3), x.size(2), x.size(3)));
  }
  return classifier->forward(f.flatten(1));
}

}  // namespace scenery::models
