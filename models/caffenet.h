// The original AlexNet as the Places-CNN Caffe releases define it (Places205-
// and Places365-AlexNet .caffemodel, BVLC's CaffeNet order): 96/256/384/384/256
// filters, two-group conv2/conv4/conv5, local response normalisation after
// the first two pooling layers, max-pooling with Caffe's ceil rounding, and
// fc6/fc7/fc8. torchvision's AlexNet is a different network (no groups, no
// LRN), so the Caffe weights need this one (caffe_import.h).
//
// Names follow torchvision's AlexNet layout (features.N, classifier.N):
//   features:   0 conv1  1 relu  2 pool1  3 norm1  4 conv2 (2 groups)  5 relu  6 pool2
//               7 norm2  8 conv3  9 relu  10 conv4 (2 groups)  11 relu  12 conv5 (2 groups)
//               13 relu  14 pool5
//   classifier: 0 fc6  1 relu  2 dropout  3 fc7  4 relu  5 dropout  6 fc8
// Input 227 x 227 as released (224 also gives the 6 x 6 pool5 map fc6 needs).
#pragma once

#include <torch/torch.h>

namespace scenery::models {

class CaffeNetImpl : public torch::nn::Module {
 public:
  explicit CaffeNetImpl(int64_t num_classes, double dropout = 0.5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(CaffeNet);

}  // namespace scenery::models
