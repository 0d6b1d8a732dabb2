// One collated batch as the loader hands it to training or evaluation.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace scenery::data {

struct Batch {
  // float32 [B,3,H,W], ImageNet-normalised (channels-last strides when asked);
  // ten-crop mode: [B,10,3,H,W] in torchvision TenCrop order. uint8 pixels of
  // the same shape with LoaderOptions::uint8_images (see normalize_batch).
  torch::Tensor images;
  torch::Tensor labels;  // int64 [B]; -1 for unlabelled samples
  torch::Tensor masks;   // int64 [B,H,W] raw annotation values, or undefined
  // The two-branch network's semantic map in slot form (data/semantic_input.h):
  // K = 1 (annotations, score 1) or 3 (top-3 maps) channel/score pairs per pixel.
  torch::Tensor semantic_channels;  // uint8 [B,K,H,W], or undefined
  torch::Tensor semantic_scores;    // float32 [B,K,H,W]; undefined when all scores are 1
  torch::Tensor indices;            // int64 [B] catalog index of each sample
  // Random erasing of uint8 batches happens after normalisation, so the
  // loader hands the boxes over: int32 [B,4] x, y, width, height (width 0:
  // none); apply_erasing() does it. Undefined otherwise (float batches come
  // erased already).
  torch::Tensor erase;
  int64_t epoch = 0;
  int64_t position = 0;  // batch position within the epoch (what resume needs)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

}  // namespace scenery::data
