// Mixup and CutMix at batch level, as timm's Mixup (mode "batch") does them:
// with probability `prob` a batch is mixed with itself reversed (sample i
// with sample B-1-i). Mixup blends the images, x = lam x + (1 - lam) x.flip(0),
// lam ~ Beta(mixup_alpha, mixup_alpha); CutMix pastes a box of the reversed
// batch whose side is sqrt(1 - lam) of the image's, lam ~ Beta(cutmix_alpha,
// cutmix_alpha), then corrected to the area actually kept. With both, CutMix
// is picked with probability `switch_prob`. Targets mix the same way (one-hot
// with label smoothing, timm's mixup_target) and the loss is the soft-target
// cross-entropy. Every draw comes from (seed, rank, epoch, batch position),
// so a resumed run mixes exactly as an uninterrupted one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace scenery::train {

struct MixOptions {
  double mixup_alpha = 0, cutmix_alpha = 0;  // 0 disables each
  double prob = 1.0;                         // per batch
  double switch_prob = 0.5;                  // CutMix rather than Mixup, when both are on
  bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }
};

struct MixDecision {
  bool mixed = false, cutmix = false;
  double lam = 1.0;                        // weight of the batch itself (after CutMix's correction)
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;  // CutMix box rows [y0, y1), columns [x0, x1)
};

// Beta(a, a) from uniform draws (Marsaglia-Tsang gammas); `u` yields
// uniforms in [0, 1).
double sample_beta(double a, const std::function<double()>& u);

// timm's rand_bbox + correct_lam for an H x W image, given lam and the box
// centre (cy in [0, H), cx in [0, W)).
MixDecision cutmix_box(int64_t height, int64_t width, double lam, int64_t cy, int64_t cx);

// This batch's decision: whether to mix, how, lam and the box.
MixDecision draw_mix(const MixOptions& options, uint64_t seed, int rank, int64_t epoch,
                     int64_t position, int64_t height, int64_t width);

// The mixed images [B,C,H,W] (a new tensor) and the mixed soft targets [B,K].
torch::Tensor mix_images(const torch::Tensor& images, const MixDecision& d);
torch::Tensor mix_targets(const torch::Tensor& labels, int64_t num_classes, double smoothing,
                          const MixDecision& d);

// Mean over the batch of sum_k -target_k log softmax(logits)_k.
torch::Tensor soft_target_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target);

}  // namespace scenery::train
