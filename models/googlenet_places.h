// BVLC GoogLeNet (Szegedy et al. 2015) as the Places205/Places365-GoogLeNet
// Caffe releases define it: no batch norm, LRN after pool1 and conv2/3x3,
// max-pooling with Caffe's ceil rounding, nine inception modules, 7x7 average
// pooling, dropout 0.4 and the main classifier (loss3/classifier). The two
// auxiliary heads exist only for training and are not built; their blobs are
// skipped on import.
//
// Names follow torchvision's GoogLeNet (conv1, conv2, conv3, inception3a ..
// inception5b with branch1, branch2.{0,1}, branch3.{0,1}, branch4, fc), without
// its batch norm, so the Caffe names map one to one (caffe_import.h):
//   conv1/7x7_s2 -> conv1, conv2/3x3_reduce -> conv2, conv2/3x3 -> conv3,
//   inception_4a/1x1 -> inception4a.branch1, .../3x3_reduce -> branch2.0,
//   .../3x3 -> branch2.1, .../5x5_reduce -> branch3.0, .../5x5 -> branch3.1,
//   .../pool_proj -> branch4, loss3/classifier -> fc.
// Input 224 x 224; inception5b is 7 x 7 there.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

// Caffe's pooling (3x3 / 2, sizes rounded up: 112 -> 56 -> 28 -> 14 -> 7) and
// the BVLC GoogLeNet's ACROSS_CHANNELS LRN (size 5, alpha 1e-4, beta 0.75, k 1).
torch::Tensor caffe_max_pool(const torch::Tensor& x);
torch::Tensor caffe_lrn(const torch::Tensor& x);

struct InceptionWidths {
  int64_t in, b1, b2_reduce, b2, b3_reduce, b3, b4;
};

class CaffeInceptionImpl : public torch::nn::Module {
 public:
  explicit CaffeInceptionImpl(const InceptionWidths& w);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t out_channels() const { return out_; }

  torch::nn::Conv2d branch1{nullptr};
  torch::nn::Sequential branch2{nullptr}, branch3{nullptr};
  torch::nn::Conv2d branch4{nullptr};  // after a 3x3 / stride 1 max-pool

 private:
  int64_t out_;
};
TORCH_MODULE(CaffeInception);

class GoogLeNetPlacesImpl : public torch::nn::Module {
 public:
  explicit GoogLeNetPlacesImpl(int64_t num_classes);
  torch::Tensor forward(const torch::Tensor& x);
  // inception5b's output (N x 1024 x 7 x 7 at 224 px), what pool5 averages.
  torch::Tensor last_block(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  CaffeInception inception3a{nullptr}, inception3b{nullptr};
  CaffeInception inception4a{nullptr}, inception4b{nullptr}, inception4c{nullptr},
      inception4d{nullptr}, inception4e{nullptr};
  CaffeInception inception5a{nullptr}, inception5b{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(GoogLeNetPlaces);

}  // namespace scenery::models
