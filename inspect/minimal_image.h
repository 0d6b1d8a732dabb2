// Minimal images with the classifier in the loop (after Zhou et al. 2015,
// section 3.1, whose released code has no classifier in the loop): starting
// from a correctly classified image, repeatedly remove the segment whose
// removal lowers the correct class's probability the least, as long as the
// prediction stays correct. Removed pixels are filled with the dataset's mean
// colour (0 after normalisation). Segments are the annotation's object
// regions when there is an annotation, else SLIC superpixels.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

#include <cstdint>
#include <functional>
#include <vector>

#include "data/transforms.h"
#include "models/scene_model.h"

namespace scenery::inspect {

struct Segments {
  cv::Mat ids;               // CV_32S, -1 where no segment (annotation value 0)
  std::vector<int> classes;  // per segment: its annotation class (0 for superpixels)
  std::vector<int64_t> pixels;
  int count() const { return static_cast<int>(classes.size()); }
};

// The 8-connected regions of each annotation value, unlabelled (0) included.
Segments segments_from_annotation(const cv::Mat& labels);
// SLIC superpixels of about `region_size` pixels (OpenCV ximgproc); throws
// EvalError when this build has no ximgproc.
Segments superpixel_segments(const cv::Mat& rgb, int region_size = 16);
bool have_superpixels();

struct MinimalOptions {
  int input_size = 224;  // images and segments are squashed to S x S
  data::NormalizeParams normalize;
  int batch_size = 32;  // candidate removals per forward
};

struct MinimalResult {
  bool correct = false;         // the untouched image was classified correctly
  std::vector<int> removed;     // segments in removal order
  std::vector<bool> kept;       // per segment
  double kept_fraction = 1;     // of the S x S pixels (unsegmented pixels are kept)
  int64_t label = -1;           // the class kept (given, or the network's answer)
  float start_probability = 0;  // of that class
  float final_probability = 0;
  cv::Mat seen;     // S x S RGB: the image as the network sees it
  cv::Mat minimal;  // the same with the removed segments in the mean colour
  int64_t forwards = 0;
};

// `rgb`: the decoded image; `segments` at its size; `label`: the correct class,
// or -1 for the network's own answer on the whole image (an unlabelled image).
MinimalResult minimal_image(models::SceneModel& model, torch::Device device, const cv::Mat& rgb,
                            const Segments& segments, int64_t label, const MinimalOptions& options);

// The greedy removal itself, on any scorer: `probabilities(masks)` returns, for
// a batch of candidate keep-masks (N x S x S, 1 = kept), the N x C class
// probabilities. Exposed for tests with a hand-made scorer.
// `label` -1: the scorer's own answer on the whole input.
struct GreedyRemoval {
  int64_t label = -1;
  std::vector<int> removed;
  std::vector<bool> kept;
  float start_probability = 0, final_probability = 0;
  bool correct = false;
  int64_t forwards = 0;
};
GreedyRemoval greedy_removal(
    const torch::Tensor& segment_ids /* S x S int64, -1 = none */, int segments, int64_t label,
    const std::function<torch::Tensor(const torch::Tensor& keep)>& probabilities, int batch_size);

}  // namespace scenery::inspect
