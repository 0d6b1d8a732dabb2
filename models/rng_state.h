// The default CPU generator's state, saved into and restored from checkpoints so
// that a resumed run draws the same random numbers (dropout) as an uninterrupted one.
#pragma once

#include <torch/torch.h>

namespace scenery::models {

// The default CPU generator's state, and restoring it (for exact resume).
torch::Tensor cpu_rng_state();
void set_cpu_rng_state(const torch::Tensor& state);

}  // namespace scenery::models
