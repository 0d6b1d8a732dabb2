// Matching a state dict ({name: tensor}) to a model and copying it in: strict,
// fine-tuning (head left out) and ResNet-backbone loads, with errors that list
// every key that does not fit. Where the tensors come from is models/checkpoint.h.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/scene_model.h"

namespace scenery::models {

using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

enum class LoadMode {
  kStrict,    // every key must match by name and shape (num_batches_tracked may be absent)
  kFineTune,  // the classifier head(s) are skipped and keep their fresh initialisation
};

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> skipped;  // head keys left out in kFineTune mode
};

// Copies `weights` into `model`. Keys carrying DataParallel's "module." (also
// mid-name, as in Places365's features.module.0.weight) are matched without it.
// Throws CheckpointError listing missing, unexpected and shape-mismatched keys.
LoadReport load_state_dict(SceneModel& model, const StateDict& weights,
                           LoadMode mode = LoadMode::kStrict,
                           const std::string& source = "state dict");

// Initialises the ResNet body inside a two-branch or parsing model from a
// classifier's weights (e.g. a Places365 or ImageNet resnet18/resnet50): conv1/bn1 ->
// in_block.0/1 and layerN -> encoderN (two-branch), or everything but fc ->
// encoder.* (parsing). The classifier head is ignored; every body key must match.
// For a classifier model this is a fine-tuning load.
LoadReport load_backbone_weights(SceneModel& model, const StateDict& classifier_weights,
                                 const std::string& source = "backbone weights");

}  // namespace scenery::models
