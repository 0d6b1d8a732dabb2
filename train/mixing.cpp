#include "train/mixing.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "data/transforms_rng.h"

namespace scenery::train {

namespace {

constexpr double kPi = 3.14159265358979323846;

double standard_normal(const std::function<double()>& u) {  // Box-Muller
  const double a = 1.0 - u();                               // (0, 1]: the log is finite
  return std::sqrt(-2.0 * std::log(a)) * std::cos(2.0 * kPi * u());
}

// Gamma(a, 1): Marsaglia and Tsang (2000); a < 1 boosted through a + 1.
double sample_gamma(double a, const std::function<double()>& u) {
  if (a < 1) return sample_gamma(a + 1, u) * std::pow(1.0 - u(), 1.0 / a);
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = standard_normal(u);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double w = 1.0 - u();
    if (w < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(w) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace

double sample_beta(double a, const std::function<double()>& u) {
  const double x = sample_gamma(a, u), y = sample_gamma(a, u);
  return x + y > 0 ? x / (x + y) : 0.5;
}

MixDecision cutmix_box(int64_t height, int64_t width, double lam, int64_t cy, int64_t cx) {
  MixDecision d;
  d.mixed = d.cutmix = true;
  const double ratio = std::sqrt(1.0 - lam);
  const auto cut_h = static_cast<int64_t>(static_cast<double>(height) * ratio);
  const auto cut_w = static_cast<int64_t>(static_cast<double>(width) * ratio);
  d.y0 = std::clamp<int64_t>(cy - cut_h / 2, 0, height);
  d.y1 = std::clamp<int64_t>(cy + cut_h / 2, 0, height);
  d.x0 = std::clamp<int64_t>(cx - cut_w / 2, 0, width);
  d.x1 = std::clamp<int64_t>(cx + cut_w / 2, 0, width);
  d.lam = 1.0 -
          static_cast<double>((d.y1 - d.y0) * (d.x1 - d.x0)) / static_cast<double>(height * width);
  return d;
}

MixDecision draw_mix(const MixOptions& o, uint64_t seed, int rank, int64_t epoch, int64_t position,
                     int64_t height, int64_t width) {
  MixDecision d;
  if (!o.enabled()) return d;
  // A stream of its own, apart from the loader's per-sample streams.
  data::Rng rng =
      data::Rng::for_sample(seed ^ 0x6D1C0Full, static_cast<uint64_t>(epoch),
                            (static_cast<uint64_t>(position) << 16) ^ static_cast<uint64_t>(rank));
  const std::function<double()> u = [&rng] { return rng.uniform(); };
  if (!(u() < o.prob)) return d;
  bool use_cutmix = o.cutmix_alpha > 0 && (o.mixup_alpha <= 0 || u() < o.switch_prob);
  const double lam = sample_beta(use_cutmix ? o.cutmix_alpha : o.mixup_alpha, u);
  if (use_cutmix) {
    const int64_t cy = rng.randint(0, height - 1), cx = rng.randint(0, width - 1);
    return cutmix_box(height, width, lam, cy, cx);
  }
  d.mixed = true;
  d.lam = lam;
  return d;
}

torch::Tensor mix_images(const torch::Tensor& images, const MixDecision& d) {
  if (!d.mixed) return images;
  const auto reversed = images.flip(0);
  if (!d.cutmix) return images * d.lam + reversed * (1.0 - d.lam);
  using torch::indexing::Slice;
  auto out = images.clone();
  const auto box = std::initializer_list<torch::indexing::TensorIndex>{
      Slice(), Slice(), Slice(d.y0, d.y1), Slice(d.x0, d.x1)};
  out.index_put_(box, reversed.index(box));
  return out;
}

torch::Tensor mix_targets(const torch::Tensor& labels, int64_t num_classes, double smoothing,
                          const MixDecision& d) {
  const double off = smoothing / static_cast<double>(num_classes), on = 1.0 - smoothing + off;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(labels.device());
  auto one_hot = [&](const torch::Tensor& y) {
    return torch::full({y.size(0), num_classes}, off, opts).scatter_(1, y.view({-1, 1}), on);
  };
  const auto y1 = one_hot(labels);
  if (!d.mixed) return y1;
  return y1 * d.lam + one_hot(labels.flip(0)) * (1.0 - d.lam);
}

torch::Tensor soft_target_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target) {
  return (-target * torch::log_softmax(logits.to(torch::kFloat), -1)).sum(-1).mean();
}

}  // namespace scenery::train
