// The semantic input of the two-branch (Semantic-Aware) network: a sparse map
// of kSemanticChannels = 150 + 2 channels per pixel, built either from an
// ADE20K ground-truth annotation or from the precomputed top-3 PNG pair.
//
// Channel layout (FORMATS.md: annotation 0 = "other", 1..150 = objectInfo150):
//   channel 0        "other": annotation value 0 (unlabelled / not one of the 150)
//   channels 1..150  ADE20K class c -> channel c
//   channel 151      "void": any value that is not a valid class (> 150, e.g. a
//                    255 ignore marker) lands here instead of vanishing, so a
//                    foreign label convention is visible rather than silently zero.
// Ground truth gives score 1 in its class channel; top-3 maps scatter each
// rank's score into its class channel (ranks of the same class add up).
#pragma once

#include <torch/types.h>
#include <opencv2/core.hpp>

#include <cstdint>

namespace scenery::data {

constexpr int kSemanticClasses = 150;
constexpr int kSemanticChannels = kSemanticClasses + 2;
constexpr int kSemanticOtherChannel = 0;
constexpr int kSemanticVoidChannel = kSemanticClasses + 1;

// How values of the top-3 class PNG (noisy_annotations_RGB) name ADE classes.
enum class SemanticClassCoding {
  // FORMATS.md / the Semantic-Aware release: values are 0-based ADE classes,
  // stored value v means ADE class v + 1 (so 0 = wall); 150..255 -> void.
  kZeroBased,
  // Values are ADE classes directly: v in 1..150 is class v, 0 = "other".
  kOneBased,
};

// The channel a raw annotation / top-3 class value goes to.
int semantic_channel_of_label(uint8_t label);  // annotation PNG value
int semantic_channel_of_top3(uint8_t value, SemanticClassCoding coding);

// One-hot of an 8-bit annotation into dst [152,H,W] (float, fully written).
void mask_to_semantic_into(const cv::Mat& mask8, float* dst);
// Scatter of a top-3 pair (both 8-bit 3-channel in file order R,G,B = rank 1..3;
// score = value / 255) into dst [152,H,W] (float, fully written).
void top3_to_semantic_into(const cv::Mat& classes, const cv::Mat& scores, float* dst,
                           SemanticClassCoding coding = SemanticClassCoding::kZeroBased);

// Tensor-returning forms: float32 [152,H,W]. Throw DataError on mismatched
// sizes or types.
torch::Tensor mask_to_semantic(const cv::Mat& mask8);
torch::Tensor top3_to_semantic(const cv::Mat& classes, const cv::Mat& scores,
                               SemanticClassCoding coding = SemanticClassCoding::kZeroBased);

}  // namespace scenery::data
