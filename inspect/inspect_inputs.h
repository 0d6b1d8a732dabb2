// What every `scenery-inspect` tool starts from: the network to look at (a
// checkpoint, or an architecture at its random initialisation for comparison)
// and the images (one file, a folder, or a dataset split through data.*).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "inspect/unit_scan.h"
#include "models/checkpoint.h"
#include "models/scene_model.h"

namespace scenery::inspect {

// inspect.checkpoint, inspect.random_arch, inspect.random_classes, inspect.seed,
// inspect.input, inspect.out, inspect.device, inspect.batch_size, inspect.input_size.
void add_inspect_input_options(Config& config, const std::string& out_default,
                               const std::string& out_holds);

struct InspectedModel {
  models::SceneModel model;
  models::CheckpointMeta meta;  // a random network: ImageNet normalisation, 224 px
  std::string source;           // the checkpoint path, or "random <arch> (seed S)"
  std::string checkpoint;       // the path, or empty for a random network
  torch::Device device = torch::kCPU;
};
// Throws UsageError when neither or both of checkpoint and random_arch are given.
InspectedModel load_inspected_model(const Config& config);

struct InputImage {
  std::filesystem::path file;
  std::string name;                  // relative to the folder, or the catalog's path
  int64_t label = -1;                // scene class, when a dataset split gives it
  std::filesystem::path annotation;  // a dataset split's mask, or empty
};

struct InspectInputs {
  std::vector<InputImage> images;
  std::vector<std::string> class_names;   // a dataset split's scene classes
  std::vector<std::string> object_names;  // ADE20K: mask value k -> object_names[k - 1]
};
// inspect.input (an image, or a folder searched recursively, sorted by name),
// else the data.* split. Throws UsageError when neither is given.
InspectInputs list_inspect_inputs(const Config& config);

// inspect.input_size, or the checkpoint's input size when 0; ConfigError below 0.
int inspect_input_size(const Config& config, const models::CheckpointMeta& meta);

// units.layers: the comma-separated layer names.
std::vector<std::string> inspect_layers(const Config& config);
// Registers units.layers, which inspect_layers reads (the layers scanned by
// dissection, segmentation and receptive fields).
void add_inspect_layer_options(Config& config);

// What every unit tool (dissect, segment, rf) scans the same way: units.layers, the
// input size, the checkpoint's normalisation, inspect.batch_size, data.max_image_pixels.
UnitScanOptions unit_scan_options_from_config(const Config& config,
                                              const models::CheckpointMeta& meta);

}  // namespace scenery::inspect
