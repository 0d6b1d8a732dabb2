// The outputs of named inner layers of any registry network — what unit
// dissection, receptive fields by occlusion and unit segmentation look at.
// Layer names are the state dict's module names ("layer4", "layer4.1",
// "features.28", "inception4e", "encoder.layer3"), so a user names a layer as
// the weights file does. The network runs only as far as the deepest layer asked.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "models/scene_model.h"

namespace scenery::models {

class LayerTaps {
 public:
  // Throws ModelError for a network whose layers cannot be walked.
  explicit LayerTaps(const SceneModel& model);

  // Every tappable name, in forward order.
  std::vector<std::string> names() const;

  // Throws ModelError naming the first unknown layer and listing the valid ones.
  void check(const std::vector<std::string>& layers) const;

  // The outputs of `layers` (in the order asked) for an N x 3 x H x W batch.
  std::vector<torch::Tensor> run(const torch::Tensor& images,
                                 const std::vector<std::string>& layers) const;

 private:
  struct Stage {
    std::string name;  // empty: an inner step that cannot be tapped (a stem, a pooling)
    std::function<torch::Tensor(const torch::Tensor&)> run;
  };
  struct Alias {
    std::string name;  // a group ("layer4") that ends where one stage ends
    size_t stage;
  };
  size_t stage_of(const std::string& layer) const;

  std::string arch_;
  std::vector<Stage> stages_;
  std::vector<Alias> aliases_;
};

}  // namespace scenery::models
