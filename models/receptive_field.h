// Theoretical receptive fields from a network's layer chain (the "theoretical
// size" of Zhou et al., "Object Detectors Emerge in Deep Scene CNNs", 2015,
// Table 2): along the longest path of convolutions and poolings,
//   size_l = size_{l-1} + (dilation * (kernel - 1)) * jump_{l-1},  jump_l = jump_{l-1} * stride,
// starting from size 1, jump 1 at the input. Residual shortcuts (downsample.*) are side paths
// and do not widen it; padding moves the field, not its size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/scene_model.h"

namespace scenery::models {

struct LayerGeometry {
  std::string name;  // state-dict module name: "features.0", "layer1.0.conv2", "maxpool"
  int64_t kernel = 1, stride = 1, dilation = 1, padding = 0;
};

struct ReceptiveField {
  std::string name;
  int64_t size = 1;  // side in input pixels
  int64_t jump = 1;  // input pixels between neighbouring outputs
  // Input pixel at the centre of output cell 0 (cell i: start + i * jump):
  //   start_l = start_{l-1} + (dilation * (kernel - 1) / 2 - padding) * jump_{l-1}.
  double start = 0;
};

// The chain of sliding-window layers in forward order: every Conv2d and
// MaxPool2d/AvgPool2d module except residual shortcuts, plus the functional
// stem max-pool of the ResNets. Throws ModelError for a layer the walk cannot
// describe (non-square kernels).
std::vector<LayerGeometry> layer_chain(const SceneModel& model);

// Receptive field after each layer of the chain.
std::vector<ReceptiveField> receptive_fields(const std::vector<LayerGeometry>& chain);

// The receptive field of a named layer or block: the last chain entry named
// `layer` or inside it ("layer4" -> layer4.1.conv2). Throws ModelError listing
// the valid names for an unknown one.
ReceptiveField receptive_field_of(const SceneModel& model, const std::string& layer);

}  // namespace scenery::models
