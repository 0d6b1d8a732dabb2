// What the Places365 demo tells about an image, for a batch of images at once:
// the top-k classes with softmax probabilities, the indoor/outdoor vote, the
// SUN scene attributes and class activation maps, for any scene classifier of
// the registry (the two-branch network: its RGB branch).
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/option_rules.h"
#include "data/transforms.h"
#include "inspect/places_annotations.h"
#include "models/scene_model.h"

namespace scenery::inspect {

// The two preprocessings of the official scripts.
enum class PredictPreprocess {
  kSquash,      // run_placesCNN_unified.py: Resize((224, 224)), aspect ratio not kept
  kCentreCrop,  // run_placesCNN_basic.py: Resize(256) + CenterCrop(224)
};
PredictPreprocess parse_predict_preprocess(const std::string& name);  // squash | crop
const Choices<PredictPreprocess>& predict_preprocess_choices();
const char* predict_preprocess_name(PredictPreprocess p);

struct PredictOptions {
  int top_k = 5;
  PredictPreprocess preprocess = PredictPreprocess::kSquash;
  int input_size = 224;  // squash size, or the crop
  int resize = 256;      // kCentreCrop's shorter side
  data::NormalizeParams normalize;
  int io_top = 10;                   // classes voting indoor/outdoor
  int attribute_top = 9;             // attributes reported
  int cam_top = 1;                   // maps for the best `cam_top` classes ...
  std::vector<int64_t> cam_classes;  // ... and for these
  bool clamp_negative = true;
  // Probabilities from the classifier with its negative weights set to 0, as
  // run_placesCNN_unified.py computes them (it clamps fc.weight in place before
  // its forward, so its numbers differ from run_placesCNN_basic.py's). Off: the
  // network as trained.
  bool clamp_classifier = false;
  double box_fraction = 0.2;
  std::optional<std::vector<int>> indoor_outdoor;  // read_indoor_outdoor, or absent
  std::optional<SceneAttributes> attributes;       // read_scene_attributes, or absent
};

struct ClassActivation {
  int64_t class_index = 0;
  cv::Mat heat;  // uint8, the image's size (before any preprocessing)
  cv::Rect box;  // localisation_box(heat, box_fraction)
};

struct ImagePrediction {
  std::vector<int64_t> top_classes;  // best first
  std::vector<float> top_probabilities;
  std::optional<IndoorOutdoorVote> indoor_outdoor;
  std::vector<int64_t> attributes;  // strongest first; empty without attributes
  std::vector<ClassActivation> activations;
};

class ScenePredictor {
 public:
  // Throws ModelError when maps or attributes are asked of a model without a
  // pooled classifier, and DataError when the side files do not fit the model.
  ScenePredictor(models::SceneModel& model, PredictOptions options, torch::Device device);

  // The network input of one decoded RGB image (float CHW, normalised).
  torch::Tensor preprocess(const cv::Mat& rgb) const;
  // `inputs`: preprocess() of each image, stacked (N x 3 x S x S); `sizes`: each
  // original image's size, to which its maps are resized.
  std::vector<ImagePrediction> predict(const torch::Tensor& inputs,
                                       const std::vector<cv::Size>& sizes);

  const PredictOptions& options() const { return options_; }
  bool computes_maps() const { return options_.cam_top > 0 || !options_.cam_classes.empty(); }

 private:
  models::SceneModel& model_;
  PredictOptions options_;
  torch::Device device_;
  bool pooled_ = false;
  torch::Tensor weight_, bias_;  // the pooled classifier's, on the device
};

// A batch of image files decoded (in parallel) and preprocessed for predict().
struct DecodedBatch {
  std::vector<size_t> kept;     // indices into the files that decoded
  std::vector<cv::Mat> images;  // RGB, per kept file
  std::vector<cv::Size> sizes;
  torch::Tensor inputs;  // N x 3 x S x S; undefined when nothing decoded
  std::vector<std::pair<size_t, std::string>> failures;  // index, why
};
DecodedBatch decode_batch(const ScenePredictor& predictor,
                          const std::vector<std::filesystem::path>& files, int64_t max_pixels);

// The picture written for one map: render_activation over the image (RGB in),
// with the localisation box drawn when asked.
cv::Mat render_activation_picture(const cv::Mat& rgb, const ClassActivation& activation,
                                  bool draw_box = false);

}  // namespace scenery::inspect
