#include "models/semantic_map.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "models/autograd_apply.h"

namespace scenery::models {

namespace {

void check_slots(const torch::Tensor& channels, const torch::Tensor& scores) {
  if (channels.dim() != 4 || !torch::isIntegralType(channels.scalar_type(), false))
    throw ModelError(
        fmt::format("semantic slots: channels must be an integer N x K x H x W tensor, got "
                    "{}-D {}",
                    channels.dim(), std::string(c10::toString(channels.scalar_type()))));
  if (scores.defined() && scores.sizes() != channels.sizes())
    throw ModelError(fmt::format("semantic slots: scores {} do not match channels {}",
                                 fmt::join(scores.sizes(), "x"), fmt::join(channels.sizes(), "x")));
}

void check_channel_range(const torch::Tensor& channels, int64_t num_channels) {
  if (channels.numel() == 0) return;
  const auto [lo, hi] = torch::aminmax(channels);
  const int64_t min = lo.item<int64_t>(), max = hi.item<int64_t>();
  if (min < 0 || max >= num_channels)
    throw ModelError(fmt::format("semantic slots name channel {} but the map has channels 0..{}",
                                 min < 0 ? min : max, num_channels - 1));
}

struct SlotGeometry {
  int64_t N, K, H, W;    // slots
  int64_t C, O, kh, kw;  // weight
  int64_t stride, pad, Ho, Wo;
};

SlotGeometry geometry(const torch::Tensor& channels, c10::IntArrayRef weight, int64_t stride,
                      int64_t pad) {
  SlotGeometry g{channels.size(0),
                 channels.size(1),
                 channels.size(2),
                 channels.size(3),
                 weight[1],
                 weight[0],
                 weight[2],
                 weight[3],
                 stride,
                 pad,
                 0,
                 0};
  g.Ho = (g.H + 2 * pad - g.kh) / stride + 1;
  g.Wo = (g.W + 2 * pad - g.kw) / stride + 1;
  if (g.Ho <= 0 || g.Wo <= 0)
    throw ModelError(
        fmt::format("semantic map {}x{} is smaller than the {}x{} kernel", g.H, g.W, g.kh, g.kw));
  return g;
}

// Visits, for output row `row` (= n * Ho + oy) and column ox, every (tap, slot
// pixel) that contributes: f(column index into the [kh*kw*C] table, score).
template <typename F>
inline void for_each_contribution(const SlotGeometry& g, const int32_t* ch, const float* sc,
                                  int64_t row, int64_t ox, F&& f) {
  const int64_t n = row / g.Ho, oy = row % g.Ho;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t iy = oy * g.stride - g.pad + ky;
    if (iy < 0 || iy >= g.H) continue;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = ox * g.stride - g.pad + kx;
      if (ix < 0 || ix >= g.W) continue;
      const int64_t tap = (ky * g.kw + kx) * g.C;
      for (int64_t k = 0; k < g.K; ++k) {
        const int64_t p = ((n * g.K + k) * g.H + iy) * g.W + ix;
        f(tap + ch[p], sc ? sc[p] : 1.0f);
      }
    }
  }
}

class SlotConvFunction : public torch::autograd::Function<SlotConvFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& weight,
                               const torch::Tensor& channels, const torch::Tensor& scores,
                               int64_t stride, int64_t pad) {
    const SlotGeometry g = geometry(channels, weight.sizes(), stride, pad);
    // [kh,kw,C,O]: the O weights of one (tap, channel) are contiguous.
    const auto table = weight.detach().permute({2, 3, 1, 0}).contiguous();
    auto out = torch::empty({g.N, g.Ho, g.Wo, g.O}, weight.options());
    const float* t = table.data_ptr<float>();
    const int32_t* ch = channels.data_ptr<int32_t>();
    const bool has_scores = scores.numel() > 0;
    const float* sc = has_scores ? scores.data_ptr<float>() : nullptr;
    float* o = out.data_ptr<float>();
    at::parallel_for(0, g.N * g.Ho, 1, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        for (int64_t ox = 0; ox < g.Wo; ++ox) {
          float* dst = o + (row * g.Wo + ox) * g.O;
          std::fill(dst, dst + g.O, 0.0f);
          for_each_contribution(g, ch, sc, row, ox, [&](int64_t column, float w) {
            const float* src = t + column * g.O;
            for (int64_t i = 0; i < g.O; ++i)
              dst[i] += w * src[i];
          });
        }
    });
    ctx->save_for_backward({channels, scores});
    ctx->saved_data["has_scores"] = has_scores;
    ctx->saved_data["weight_sizes"] = weight.sizes().vec();
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["pad"] = pad;
    // NCHW view of the NHWC buffer: channels-last, what the next layers like.
    return out.permute({0, 3, 1, 2});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& channels = saved[0];
    const bool has_scores = ctx->saved_data["has_scores"].toBool();
    const auto wsizes = ctx->saved_data["weight_sizes"].toIntVector();
    const SlotGeometry g = geometry(channels, wsizes, ctx->saved_data["stride"].toInt(),
                                    ctx->saved_data["pad"].toInt());
    const auto grad = grad_outputs[0].permute({0, 2, 3, 1}).contiguous();  // N,Ho,Wo,O
    // Fixed chunks with private tables, summed in chunk order: the result does
    // not depend on how many threads ran them (exact resume needs that).
    const int64_t rows = g.N * g.Ho;
    const int64_t chunks = std::min<int64_t>(16, rows);
    const int64_t columns = g.kh * g.kw * g.C;
    auto partial = torch::zeros({chunks, columns, g.O}, grad.options());
    const int32_t* ch = channels.data_ptr<int32_t>();
    const float* sc = has_scores ? saved[1].data_ptr<float>() : nullptr;
    const float* go = grad.data_ptr<float>();
    float* pt = partial.data_ptr<float>();
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        float* table = pt + c * columns * g.O;
        for (int64_t row = rows * c / chunks; row < rows * (c + 1) / chunks; ++row)
          for (int64_t ox = 0; ox < g.Wo; ++ox) {
            const float* src = go + (row * g.Wo + ox) * g.O;
            for_each_contribution(g, ch, sc, row, ox, [&](int64_t column, float w) {
              float* dst = table + column * g.O;
              for (int64_t i = 0; i < g.O; ++i)
                dst[i] += w * src[i];
            });
          }
      }
    });
    auto grad_weight =
        partial.sum(0).view({g.kh, g.kw, g.C, g.O}).permute({3, 2, 0, 1}).contiguous();
    return {grad_weight, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SemanticMap::SemanticMap(torch::Tensor dense_map) : dense(std::move(dense_map)) {}

SemanticMap SemanticMap::from_slots(torch::Tensor channels, torch::Tensor scores) {
  check_slots(channels, scores);
  SemanticMap m;
  m.channels = std::move(channels);
  m.scores = std::move(scores);
  return m;
}

SemanticMap SemanticMap::to(torch::Device device, bool non_blocking) const {
  SemanticMap m;
  if (dense.defined()) m.dense = dense.to(device, non_blocking);
  if (channels.defined()) m.channels = channels.to(device, non_blocking);
  if (scores.defined()) m.scores = scores.to(device, non_blocking);
  return m;
}

torch::Tensor SemanticMap::to_dense(int64_t num_channels) const {
  if (is_dense()) return dense;
  check_channel_range(channels, num_channels);
  auto sizes = channels.sizes().vec();
  sizes[1] = num_channels;
  auto out = torch::zeros(sizes, channels.options().dtype(torch::kFloat32));
  const auto index = channels.to(torch::kInt64);
  return out.scatter_add_(
      1, index,
      scores.defined() ? scores.to(torch::kFloat32) : torch::ones(index.sizes(), out.options()));
}

torch::Tensor semantic_conv2d(const SemanticMap& map, const torch::Tensor& weight, int64_t stride,
                              int64_t padding) {
  if (weight.dim() != 4) throw ModelError("semantic_conv2d: the weight must be O x C x kh x kw");
  const int64_t C = weight.size(1);
  if (map.is_dense()) {
    if (map.dense.dim() != 4 || map.dense.size(1) != C)
      throw ModelError(fmt::format("the semantic branch needs an N x {} x H x W map, got {}", C,
                                   fmt::join(map.dense.sizes(), "x")));
    return torch::conv2d(map.dense, weight, {}, stride, padding);
  }
  if (!map.channels.defined()) throw ModelError("semantic_conv2d: no semantic map");
  check_slots(map.channels, map.scores);
  if (!weight.device().is_cpu() || weight.scalar_type() != torch::kFloat32)
    return torch::conv2d(map.to_dense(C).to(weight.dtype()), weight, {}, stride, padding);
  check_channel_range(map.channels, C);
  const auto channels = map.channels.to(torch::kInt32).contiguous();
  // An empty tensor stands for "all scores 1": autograd functions take no undefined inputs.
  const auto scores =
      map.scores.defined() ? map.scores.to(torch::kFloat32).contiguous() : torch::empty({0});
  return autograd_apply<SlotConvFunction>(weight, channels, scores, stride, padding);
}

}  // namespace scenery::models
