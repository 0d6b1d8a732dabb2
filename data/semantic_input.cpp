#include "data/semantic_input.h"

#include <fmt/core.h>

#include <torch/torch.h>

#include <cstring>

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

void mask_to_semantic_into(const cv::Mat& mask8, float* dst) {
  if (mask8.type() != CV_8UC1)
    throw DataError("semantic input: the annotation must be 8-bit single-channel");
  const size_t plane = static_cast<size_t>(mask8.rows) * mask8.cols;
  std::memset(dst, 0, plane * kSemanticChannels * sizeof(float));
  for (int y = 0; y < mask8.rows; ++y) {
    const uint8_t* row = mask8.ptr<uint8_t>(y);
    const size_t base = static_cast<size_t>(y) * mask8.cols;
    for (int x = 0; x < mask8.cols; ++x)
      dst[semantic_channel_of_label(row[x]) * plane + base + x] = 1.0f;
  }
}

void top3_to_semantic_into(const cv::Mat& classes, const cv::Mat& scores, float* dst,
                           SemanticClassCoding coding) {
  if (classes.type() != CV_8UC3 || scores.type() != CV_8UC3)
    throw DataError("semantic input: top-3 class and score maps must be 8-bit 3-channel");
  if (classes.size() != scores.size())
    throw DataError(fmt::format("semantic input: class map {}x{} but score map {}x{}", classes.cols,
                                classes.rows, scores.cols, scores.rows));
  int channel_of[256];
  for (int v = 0; v < 256; ++v)
    channel_of[v] = semantic_channel_of_top3(static_cast<uint8_t>(v), coding);
  const size_t plane = static_cast<size_t>(classes.rows) * classes.cols;
  std::memset(dst, 0, plane * kSemanticChannels * sizeof(float));
  for (int y = 0; y < classes.rows; ++y) {
    const uint8_t* c = classes.ptr<uint8_t>(y);
    const uint8_t* s = scores.ptr<uint8_t>(y);
    const size_t base = static_cast<size_t>(y) * classes.cols;
    for (int x = 0; x < classes.cols; ++x)
      for (int r = 0; r < 3; ++r)
        dst[channel_of[c[3 * x + r]] * plane + base + x] +=
            static_cast<float>(s[3 * x + r]) / 255.0f;
  }
}

torch::Tensor mask_to_semantic(const cv::Mat& mask8) {
  auto t = torch::empty({kSemanticChannels, mask8.rows, mask8.cols}, torch::kFloat32);
  mask_to_semantic_into(mask8, t.data_ptr<float>());
  return t;
}

torch::Tensor top3_to_semantic(const cv::Mat& classes, const cv::Mat& scores,
                               SemanticClassCoding coding) {
  auto t = torch::empty({kSemanticChannels, classes.rows, classes.cols}, torch::kFloat32);
  top3_to_semantic_into(classes, scores, t.data_ptr<float>(), coding);
  return t;
}

}  // namespace scenery::data
