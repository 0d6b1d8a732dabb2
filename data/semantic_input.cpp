#include "data/semantic_input.h"

#include <fmt/core.h>

#include <torch/torch.h>

#include "core/error.h"

namespace scenery::data {

int semantic_channel_of_label(uint8_t label) {
  return label <= kSemanticClasses ? label : kSemanticVoidChannel;
}

int semantic_channel_of_top3(uint8_t value, SemanticClassCoding coding) {
  if (coding == SemanticClassCoding::kZeroBased)
    return value < kSemanticClasses ? value + 1 : kSemanticVoidChannel;
  return semantic_channel_of_label(value);
}

void mask_to_semantic_slots(const cv::Mat& mask8, uint8_t* channels) {
  if (mask8.type() != CV_8UC1)
    throw DataError("semantic input: the annotation must be 8-bit single-channel");
  for (int y = 0; y < mask8.rows; ++y) {
    const uint8_t* row = mask8.ptr<uint8_t>(y);
    uint8_t* dst = channels + static_cast<size_t>(y) * mask8.cols;
    for (int x = 0; x < mask8.cols; ++x)
      dst[x] = static_cast<uint8_t>(semantic_channel_of_label(row[x]));
  }
}

void top3_to_semantic_slots(const cv::Mat& classes, const cv::Mat& scores, uint8_t* channels,
                            float* scores_out, SemanticClassCoding coding) {
  if (classes.type() != CV_8UC3 || scores.type() != CV_8UC3)
    throw DataError("semantic input: top-3 class and score maps must be 8-bit 3-channel");
  if (classes.size() != scores.size())
    throw DataError(fmt::format("semantic input: class map {}x{} but score map {}x{}", classes.cols,
                                classes.rows, scores.cols, scores.rows));
  uint8_t channel_of[256];
  for (int v = 0; v < 256; ++v)
    channel_of[v] = static_cast<uint8_t>(semantic_channel_of_top3(static_cast<uint8_t>(v), coding));
  const size_t plane = static_cast<size_t>(classes.rows) * classes.cols;
  for (int y = 0; y < classes.rows; ++y) {
    const uint8_t* c = classes.ptr<uint8_t>(y);
    const uint8_t* s = scores.ptr<uint8_t>(y);
    const size_t base = static_cast<size_t>(y) * classes.cols;
    for (int x = 0; x < classes.cols; ++x)
      for (int r = 0; r < kTop3Slots; ++r) {
        channels[r * plane + base + x] = channel_of[c[3 * x + r]];
        scores_out[r * plane + base + x] = static_cast<float>(s[3 * x + r]) / 255.0f;
      }
  }
}

torch::Tensor semantic_slots_to_dense(const torch::Tensor& channels, const torch::Tensor& scores) {
  auto sizes = channels.sizes().vec();
  const int64_t slot_dim = channels.dim() - 3;
  sizes[slot_dim] = kSemanticChannels;
  auto dense =
      torch::zeros(sizes, torch::TensorOptions().dtype(torch::kFloat32).device(channels.device()));
  const auto index = channels.to(torch::kInt64);
  return dense.scatter_add_(
      slot_dim, index,
      scores.defined() ? scores.to(torch::kFloat32) : torch::ones(index.sizes(), dense.options()));
}

torch::Tensor mask_to_semantic(const cv::Mat& mask8) {
  auto channels = torch::empty({kMaskSlots, mask8.rows, mask8.cols}, torch::kUInt8);
  mask_to_semantic_slots(mask8, channels.data_ptr<uint8_t>());
  return semantic_slots_to_dense(channels, {});
}

torch::Tensor top3_to_semantic(const cv::Mat& classes, const cv::Mat& scores,
                               SemanticClassCoding coding) {
  auto channels = torch::empty({kTop3Slots, classes.rows, classes.cols}, torch::kUInt8);
  auto weights = torch::empty({kTop3Slots, classes.rows, classes.cols}, torch::kFloat32);
  top3_to_semantic_slots(classes, scores, channels.data_ptr<uint8_t>(), weights.data_ptr<float>(),
                         coding);
  return semantic_slots_to_dense(channels, weights);
}

}  // namespace scenery::data
