// NumPy's .npy format (format versions 1-3), for the arrays the Places
// releases ship beside their weights, e.g. W_sceneattribute_wideresnet18.npy
// (102 x 512 float64): little-endian float32 or float64 in C order. Anything
// else (Fortran order, big-endian, other dtypes, a truncated file) is refused
// with a CheckpointError naming the file and what it holds.
#pragma once

#include <torch/torch.h>

#include <filesystem>

namespace scenery::models {

// A CPU tensor of the file's dtype (kFloat32 or kFloat64) and shape.
torch::Tensor read_npy(const std::filesystem::path& file);

}  // namespace scenery::models
