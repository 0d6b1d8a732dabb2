// Optimizer state keyed by parameter *name* rather than by tensor address, so
// a checkpoint survives a process restart and can be read from Python:
//   SGD   -> {"momentum_buffer": t}
//   AdamW -> {"step": int64 scalar, "exp_avg": t, "exp_avg_sq": t[, "max_exp_avg_sq": t]}
// (the same slot names as torch.optim's state_dict()).
#pragma once

#include <torch/torch.h>

#include "models/checkpoint.h"

namespace scenery::models {

// "sgd" or "adamw"; throws CheckpointError for other optimizer types.
std::string optimizer_name(const torch::optim::Optimizer& optimizer);

// Parameters without state yet (no step taken) are left out.
NamedTensorMap export_optimizer_state(torch::optim::Optimizer& optimizer,
                                      const StateDict& named_parameters);

// Restores state exported by export_optimizer_state into an optimizer built
// over the same named parameters. Throws CheckpointError naming a parameter
// that is unknown or whose state has the wrong shape.
void import_optimizer_state(torch::optim::Optimizer& optimizer, const StateDict& named_parameters,
                            const NamedTensorMap& state);

}  // namespace scenery::models
