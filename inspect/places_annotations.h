// The side files of the Places365 demo: the indoor/outdoor label of every
// category (IO_places365.txt) and the SUN scene attributes
// (labels_sunattribute.txt + W_sceneattribute_wideresnet18.npy), and the two
// rules the official demo applies to them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace scenery::inspect {

// IO_places365.txt: "/a/airfield 2" per category, in category order; 1 = indoor,
// 2 = outdoor. Returns value - 1 per class (0 indoor, 1 outdoor). Throws
// DataError naming file:line for a bad line, and naming both counts when the
// file does not have `num_classes` lines.
std::vector<int> read_indoor_outdoor(const std::filesystem::path& file, int64_t num_classes);

struct IndoorOutdoorVote {
  double score = 0;  // mean of (value - 1) over the top classes: 0 = all indoor
  bool indoor = true;
};
// The official vote: mean over the `top` best-ranked classes, indoor below 0.5.
IndoorOutdoorVote vote_indoor_outdoor(const std::vector<int>& io, const int64_t* ranked,
                                      int top = 10);

struct SceneAttributes {
  std::vector<std::string> names;  // 102 SUN attributes
  torch::Tensor weights;           // names x feature_dim, float64
};
// Throws DataError naming both files and both sizes when the matrix does not have
// one row per name or `feature_dim` columns (512 for wideresnet18).
SceneAttributes read_scene_attributes(const std::filesystem::path& names_file,
                                      const std::filesystem::path& weights_file,
                                      int64_t feature_dim);
// responses = W . feature (in float64, as numpy does with a float64 W), the `k`
// strongest first.
std::vector<int64_t> top_attributes(const SceneAttributes& attributes,
                                    const torch::Tensor& pooled_feature, int k = 9);

}  // namespace scenery::inspect
