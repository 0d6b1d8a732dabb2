// What one training batch optimises: the batch's images as the network sees
// them (mixed with Mixup/CutMix when train.mixup_alpha / train.cutmix_alpha
// are on) and the loss against the batch's labels or masks mixed the same way.
// The training loop calls inputs() then loss() and never asks which it is.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/registry.h"
#include "train/losses.h"
#include "train/mixing.h"

namespace scenery::train {

class Objective {
 public:
  // `seed` and `rank`: every mixing draw comes from (seed, rank, epoch, batch
  // position), so a resumed run mixes exactly as an uninterrupted one.
  Objective(models::ModelKind kind, LossOptions loss, MixOptions mix, uint64_t seed, int rank);

  // The images of batch `position` of `epoch` as the network takes them;
  // remembers the mixing for loss().
  torch::Tensor inputs(torch::Tensor images, int64_t epoch, int64_t position);
  // The loss of `output` against the batch's `target` (labels, or masks for
  // parsing), mixed as the latest inputs() were.
  torch::Tensor loss(const models::ModelOutput& output, const torch::Tensor& target) const;

 private:
  models::ModelKind kind_;
  LossOptions loss_;
  MixOptions mix_;
  uint64_t seed_;
  int rank_;
  MixDecision latest_;
};

}  // namespace scenery::train
