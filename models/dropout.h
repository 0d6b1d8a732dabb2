// model.dropout: one dropout probability for every Dropout / Dropout2d of a
// network, as torchvision's `dropout=` constructor argument sets it. Set to 0
// it makes a run's result independent of how the batch is split between
// data-parallel ranks (a dropout mask is drawn per tensor, per rank).
#pragma once

#include <torch/torch.h>

namespace scenery::models {

// Sets p of every dropout module inside `module`; returns how many.
// Throws ModelError for p outside [0, 1).
int64_t set_dropout_probability(torch::nn::Module& module, double p);

}  // namespace scenery::models
