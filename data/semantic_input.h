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

// Slot form, what the loader hands out (see models/semantic_map.h): per pixel
// K (channel, score) pairs in planes, dense[c] = sum_k score_k * [channel_k = c].
// K = 1 for an annotation (score 1, so no score planes) and 3 for a top-3 pair.
// Why: the dense map is 152 floats per pixel (15.6 MB per 160 px sample); the
// slots are 1-15 bytes, and the network's first convolution reads them directly.
constexpr int kMaskSlots = 1;
constexpr int kTop3Slots = 3;

// Channel of each pixel of an 8-bit annotation into channels[H*W].
void mask_to_semantic_slots(const cv::Mat& mask8, uint8_t* channels);
// A top-3 pair (both 8-bit 3-channel in file order R,G,B = rank 1..3; score =
// value / 255) into three planes channels[3][H*W] and scores[3][H*W].
void top3_to_semantic_slots(const cv::Mat& classes, const cv::Mat& scores, uint8_t* channels,
                            float* scores_out,
                            SemanticClassCoding coding = SemanticClassCoding::kZeroBased);

// Dense float32 [..., 152, H, W] of slots channels uint8 [..., K, H, W] and
// scores float32 [..., K, H, W] (undefined: all 1). Ranks of one class add up.
torch::Tensor semantic_slots_to_dense(const torch::Tensor& channels, const torch::Tensor& scores);

// Dense forms of one map: float32 [152,H,W]. Throw DataError on mismatched
// sizes or types.
torch::Tensor mask_to_semantic(const cv::Mat& mask8);
torch::Tensor top3_to_semantic(const cv::Mat& classes, const cv::Mat& scores,
                               SemanticClassCoding coding = SemanticClassCoding::kZeroBased);

}  // namespace scenery::data
