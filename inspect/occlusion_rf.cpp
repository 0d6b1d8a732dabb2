#include "inspect/occlusion_rf.h"

#include <fmt/core.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/option_rules.h"
#include "data/catalog_text.h"

namespace scenery::inspect {

std::vector<int> occlusion_positions(int side, int patch, int stride) {
  if (patch < 1 || stride < 1 || patch > side) {
    throw EvalError(fmt::format("occlusion: a {} px patch with stride {} on a {} px input", patch,
                                stride, side));
  }
  std::vector<int> out;
  for (int p = 0; p + patch <= side; p += stride)
    out.push_back(p);
  return out;
}

std::vector<UnitPeak> unit_peaks(const torch::Tensor& maps, const std::vector<int64_t>& units) {
  const auto m = maps.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t h = m.size(1), w = m.size(2);
  std::vector<UnitPeak> out;
  for (int64_t u : units) {
    const float* v = m.data_ptr<float>() + u * h * w;
    int64_t best = 0;
    for (int64_t i = 1; i < h * w; ++i)
      if (v[i] > v[best]) best = i;
    out.push_back({u, best / w, best % w, v[best]});
  }
  return out;
}

std::vector<torch::Tensor> occlusion_discrepancy(const models::LayerTaps& taps,
                                                 const std::string& layer,
                                                 const torch::Tensor& input,
                                                 const std::vector<UnitPeak>& peaks,
                                                 const OcclusionOptions& o, torch::Device device,
                                                 uint64_t image_seed) {
  const int side = static_cast<int>(input.size(1));
  if (input.dim() != 3 || input.size(0) != 3 || input.size(2) != side)
    throw EvalError("occlusion: the input must be 3 x S x S");
  const auto positions = occlusion_positions(side, o.patch, o.stride);
  const auto g = static_cast<int64_t>(positions.size());
  std::vector<torch::Tensor> out;
  for (size_t k = 0; k < peaks.size(); ++k)
    out.push_back(torch::zeros({g, g}));
  const auto base = input.to(torch::kCPU, torch::kFloat32).contiguous();
  torch::NoGradGuard no_grad;
  const int64_t total = g * g;
  for (int64_t begin = 0; begin < total; begin += o.batch_size) {
    const int64_t n = std::min<int64_t>(o.batch_size, total - begin);
    auto batch = base.unsqueeze(0).repeat({n, 1, 1, 1}).contiguous();
    float* data = batch.data_ptr<float>();
    for (int64_t b = 0; b < n; ++b) {
      const int64_t p = begin + b;
      const int y0 = positions[static_cast<size_t>(p / g)],
                x0 = positions[static_cast<size_t>(p % g)];
      // The patch's own generator: the same pixels whatever the batch size.
      std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull ^ (image_seed << 20) ^
                          static_cast<uint64_t>(p));
      for (int c = 0; c < 3; ++c) {
        const float mean = o.normalize.mean[static_cast<size_t>(c)];
        const float sd = o.normalize.std[static_cast<size_t>(c)];
        float* plane = data + (b * 3 + c) * side * side;
        for (int y = y0; y < y0 + o.patch; ++y)
          for (int x = x0; x < x0 + o.patch; ++x)
            plane[y * side + x] = (static_cast<float>(rng() % 256) / 255.0f - mean) / sd;
      }
    }
    const auto act =
        taps.run(batch.to(device).contiguous(torch::MemoryFormat::ChannelsLast), {layer})[0]
            .to(torch::kCPU, torch::kFloat32)
            .contiguous();
    const auto a = act.accessor<float, 4>();
    for (size_t k = 0; k < peaks.size(); ++k) {
      float* d = out[k].data_ptr<float>();
      const auto& pk = peaks[k];
      for (int64_t b = 0; b < n; ++b)
        d[begin + b] = std::abs(pk.value - a[b][pk.unit][pk.row][pk.col]);
    }
  }
  return out;
}

double peak_location(int64_t cell, int64_t cells, int side) {
  return (static_cast<double>(cell) + 0.5) * side / static_cast<double>(cells) - 0.5;
}

double peak_location(int64_t cell, const models::ReceptiveField& field) {
  return field.start + static_cast<double>(cell * field.jump);
}

RecentredAverage::RecentredAverage(int side, const OcclusionOptions& o)
    : side_(side),
      patch_(o.patch),
      stride_(o.stride),
      radius_((side - 1 + o.stride - 1) / o.stride),
      positions_(occlusion_positions(side, o.patch, o.stride)),
      sum_(torch::zeros({2 * radius_ + 1, 2 * radius_ + 1}, torch::kFloat64)),
      count_(torch::zeros({2 * radius_ + 1, 2 * radius_ + 1}, torch::kFloat64)) {}

void RecentredAverage::add(const torch::Tensor& discrepancy, double centre_y, double centre_x) {
  const auto g = static_cast<int64_t>(positions_.size());
  if (discrepancy.dim() != 2 || discrepancy.size(0) != g || discrepancy.size(1) != g) {
    throw EvalError(fmt::format("occlusion: a {} x {} discrepancy map expected", g, g));
  }
  const auto d = discrepancy.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* v = d.data_ptr<double>();
  double* sum = sum_.data_ptr<double>();
  double* count = count_.data_ptr<double>();
  const int64_t side = 2 * radius_ + 1;
  const double half = (patch_ - 1) / 2.0;  // a patch's centre from its corner
  for (int64_t gy = 0; gy < g; ++gy) {
    const auto cy = static_cast<int64_t>(
        std::lround((positions_[static_cast<size_t>(gy)] + half - centre_y) / stride_));
    for (int64_t gx = 0; gx < g; ++gx) {
      const auto cx = static_cast<int64_t>(
          std::lround((positions_[static_cast<size_t>(gx)] + half - centre_x) / stride_));
      const int64_t y = cy + radius_, x = cx + radius_;
      if (y < 0 || y >= side || x < 0 || x >= side) continue;
      sum[y * side + x] += v[gy * g + gx];
      count[y * side + x] += 1;
    }
  }
  ++images_;
}

torch::Tensor RecentredAverage::average() const {
  return (sum_ / count_.clamp_min(1)).to(torch::kFloat32);
}

double empirical_rf_size(const torch::Tensor& averaged, int stride, double fraction) {
  const double max_value = averaged.max().item<double>();
  if (!(max_value > 0)) return 0;
  const auto cells = (averaged > fraction * max_value).sum().item<int64_t>();
  return std::sqrt(static_cast<double>(cells)) * stride;
}

std::vector<int64_t> parse_unit_list(const std::string& text, int64_t units) {
  const auto refuse = [&] {
    throw_invalid_value(
        "", "rf.units", text,
        fmt::format("units and ranges A-B (e.g. 0-7,12) of a layer with {} units, or all", units));
  };
  std::vector<int64_t> out;
  if (data::trim_view(text) == "all") {
    for (int64_t u = 0; u < units; ++u)
      out.push_back(u);
    return out;
  }
  for (const auto& item : parse_list<std::string>("rf.units", text, ListRule::any_length())) {
    const auto dash = item.find('-');
    int64_t a = 0, b = 0;
    const bool ok = dash == std::string::npos
                        ? data::parse_index(item, a) && (b = a, true)
                        : data::parse_index(item.substr(0, dash), a) &&
                              data::parse_index(item.substr(dash + 1), b) && a <= b;
    if (!ok || b >= units) refuse();
    for (int64_t u = a; u <= b; ++u)
      out.push_back(u);
  }
  return out;
}

}  // namespace scenery::inspect
