// Checkpoints: one file holding the weights plus what is needed to use them
// (arch, classes, input normalisation) and, for resuming, the training state.
//
// On disk: torch.save's zip layout holding a plain dict of plain lists, strings,
// numbers and tensors, so Python reads it with `torch.load(path,
// weights_only=True)` (PyTorch >= 2.6's default; 1.13's predates floats), and
// `ckpt["state_dict"]` loads with strict=True into the torchvision model of the
// same arch:
//   format        "scenery-checkpoint"      version  1
//   arch, num_classes, class_names (list[str]), input_mean, input_std (list[float]),
//   input_size (int)
//   state_dict    {name: tensor}            torchvision names, BN buffers included
//   training (optional) {optimizer: str, optimizer_state: {param name: {key: tensor}},
//                        scheduler: {key: float}, epoch: int, iteration: int,
//                        rng_state: uint8 tensor (torch CPU generator state),
//                        world_size: int, rank_rng_states: uint8 [world_size, S]
//                        (data-parallel runs: every rank's generator),
//                        init_weights, init_weights_sha256: str (the model.weights
//                        file a fine-tuning run started from)}
// Written through replace_file_atomic: an interrupted save leaves the previous file intact.
//
// Matching state dicts to models lives in models/state_dict.h and the RNG
// helpers in models/rng_state.h; both are included here so that this one
// header keeps offering everything about checkpoints.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/rng_state.h"
#include "models/scene_model.h"
#include "models/state_dict.h"

namespace scenery::models {

// Per-parameter tensors by parameter name, e.g. optimizer moments.
using NamedTensorMap = std::map<std::string, std::map<std::string, torch::Tensor>>;

struct CheckpointMeta {
  std::string arch;
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // may be empty
  std::vector<double> input_mean{0.485, 0.456, 0.406};
  std::vector<double> input_std{0.229, 0.224, 0.225};
  int64_t input_size = 224;
};

struct TrainingState {
  std::string optimizer;           // "sgd", "adamw", ...
  NamedTensorMap optimizer_state;  // see optimizer_state.h
  std::map<std::string, double> scheduler;
  int64_t epoch = 0;
  int64_t iteration = 0;
  torch::Tensor rng_state;          // cpu_rng_state()
  int64_t world_size = 1;           // data-parallel ranks of the run that saved it
  torch::Tensor rank_rng_states;    // [world_size, S] every rank's cpu_rng_state(); or undefined
  std::string init_weights;         // model.weights that initialised the run ("" = none)
  std::string init_weights_sha256;  // its SHA-256 (hex)
  StateDict ema_state;              // train.ema_decay: the weight average; empty = none
};

struct Checkpoint {
  // Empty arch / num_classes 0 when the file was a bare state dict.
  CheckpointMeta meta;
  StateDict state_dict;
  std::optional<TrainingState> training;
};

// Writes atomically; throws CheckpointError naming the file on failure.
void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);
// Snapshot of `model` (weights copied to CPU, contiguous). meta.arch and
// meta.num_classes are taken from the model.
void save_checkpoint(const std::filesystem::path& path, const SceneModel& model,
                     CheckpointMeta meta, const TrainingState* training = nullptr);

// Reads our format, a bare state dict ({name: tensor}, e.g. torch.save(model.state_dict())
// in the zip format) or a {"state_dict": {...}, ...} wrapper. Legacy (pre-zip)
// torch pickles are refused with a pointer to scripts/convert_places365_checkpoint.py.
Checkpoint read_checkpoint(const std::filesystem::path& path);

// read_checkpoint + a check that arch/num_classes agree (strict mode) + load_state_dict.
Checkpoint load_checkpoint(const std::filesystem::path& path, SceneModel& model,
                           LoadMode mode = LoadMode::kStrict);

}  // namespace scenery::models
