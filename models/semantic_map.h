// The semantic input of a two-branch network, in either of two forms that
// denote the same tensor:
//  - dense: float [N,C,H,W] (C = 150 + 2 for ADE20K, FORMATS.md);
//  - slots: K (channel, score) pairs per pixel, channels integer [N,K,H,W] and
//    scores float [N,K,H,W] (undefined: every score is 1, a one-hot map), so
//    dense[n,c,y,x] = sum_k scores[n,k,y,x] * [channels[n,k,y,x] == c].
// Loaders produce slots (K = 1 for annotations, 3 for top-3 maps): 50-150x
// less memory than dense, and the first convolution over them is a gather of
// weight columns (semantic_conv2d) instead of a dense 152-channel convolution,
// which dominated the two-branch network's CPU step.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

struct SemanticMap {
  SemanticMap() = default;
  SemanticMap(torch::Tensor dense_map);  // NOLINT(google-explicit-constructor): a dense map is one
  static SemanticMap from_slots(torch::Tensor channels, torch::Tensor scores = {});

  bool defined() const { return dense.defined() || channels.defined(); }
  bool is_dense() const { return dense.defined(); }
  int64_t batch_size() const { return is_dense() ? dense.size(0) : channels.size(0); }
  SemanticMap to(torch::Device device, bool non_blocking = false) const;
  // float [N,num_channels,H,W]; throws ModelError on a channel >= num_channels.
  torch::Tensor to_dense(int64_t num_channels) const;

  torch::Tensor dense;
  torch::Tensor channels;
  torch::Tensor scores;
};

// conv2d(map.to_dense(C), weight, no bias, stride, padding) for weight
// [O,C,kh,kw]. On CPU in float32 the slot form never builds the dense map:
// each output pixel sums kh*kw*K weight columns (O floats each), and the
// backward pass scatters the output gradient into the same columns, in a
// fixed order independent of the thread count. Elsewhere it densifies and
// calls conv2d. Gradients flow to `weight` only.
torch::Tensor semantic_conv2d(const SemanticMap& map, const torch::Tensor& weight, int64_t stride,
                              int64_t padding);

}  // namespace scenery::models
