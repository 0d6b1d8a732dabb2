#include "inspect/places_annotations.h"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "data/catalog_text.h"
#include "models/npy.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

std::vector<int> read_indoor_outdoor(const fs::path& file, int64_t num_classes) {
  const std::string text = data::read_text_file(file, "indoor/outdoor file");
  data::LineReader lines(text);
  std::string_view line;
  std::vector<int> io;
  while (lines.next(line)) {
    line = data::trim_view(line);
    if (line.empty()) continue;
    std::string_view head, tail;
    int64_t value = 0;
    if (!data::split_last_token(line, head, tail) || !data::parse_index(tail, value) ||
        (value != 1 && value != 2)) {
      data::throw_at(file, lines.line_number(),
                     fmt::format("expected '<category> 1' (indoor) or '<category> 2' (outdoor), "
                                 "got '{}'",
                                 line));
    }
    io.push_back(static_cast<int>(value - 1));
  }
  if (static_cast<int64_t>(io.size()) != num_classes) {
    throw DataError(fmt::format("{}: {} categories, but the model has {} classes", file.string(),
                                io.size(), num_classes));
  }
  return io;
}

IndoorOutdoorVote vote_indoor_outdoor(const std::vector<int>& io, const int64_t* ranked, int top) {
  IndoorOutdoorVote vote;
  const int n = std::min<int>(top, static_cast<int>(io.size()));
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += io.at(static_cast<size_t>(ranked[i]));
  vote.score = n > 0 ? sum / n : 0;
  vote.indoor = vote.score < 0.5;
  return vote;
}

SceneAttributes read_scene_attributes(const fs::path& names_file, const fs::path& weights_file,
                                      int64_t feature_dim) {
  SceneAttributes out;
  const std::string text = data::read_text_file(names_file, "scene attribute names file");
  data::LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    line = data::trim_view(line);
    if (!line.empty()) out.names.emplace_back(line);
  }
  if (!fs::exists(weights_file)) {
    throw DataError(
        fmt::format("missing scene attribute weights file '{}'", weights_file.string()));
  }
  auto w = models::read_npy(weights_file);
  if (w.dim() != 2 || w.size(0) != static_cast<int64_t>(out.names.size()) ||
      w.size(1) != feature_dim) {
    std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end());
    std::string got;
    for (size_t i = 0; i < shape.size(); ++i)
      got += (i ? " x " : "") + std::to_string(shape[i]);
    throw DataError(fmt::format(
        "{} is {}, but {} names {} attributes and the model has {} features: expected {} x {}",
        weights_file.string(), got.empty() ? "a scalar" : got, names_file.string(),
        out.names.size(), feature_dim, out.names.size(), feature_dim));
  }
  out.weights = w.to(torch::kFloat64).contiguous();
  return out;
}

std::vector<int64_t> top_attributes(const SceneAttributes& attributes,
                                    const torch::Tensor& pooled_feature, int k) {
  const auto responses =
      torch::mv(attributes.weights, pooled_feature.to(torch::kCPU, torch::kFloat64).flatten())
          .contiguous();
  const double* r = responses.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(responses.numel()));
  std::iota(order.begin(), order.end(), 0);
  // Equal responses keep index order: numpy's default argsort is not stable,
  // so the official script has no defined order for them.
  std::stable_sort(order.begin(), order.end(), [r](int64_t a, int64_t b) { return r[a] > r[b]; });
  order.resize(std::min<size_t>(order.size(), static_cast<size_t>(std::max(k, 0))));
  return order;
}

}  // namespace scenery::inspect
