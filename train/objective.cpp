#include "train/objective.h"

#include <utility>

namespace scenery::train {

Objective::Objective(models::ModelKind kind, LossOptions loss, MixOptions mix, uint64_t seed,
                     int rank)
    : kind_(kind), loss_(loss), mix_(mix), seed_(seed), rank_(rank) {}

torch::Tensor Objective::inputs(torch::Tensor images, int64_t epoch, int64_t position) {
  if (!mix_.enabled()) return images;
  latest_ = draw_mix(mix_, seed_, rank_, epoch, position, images.size(-2), images.size(-1));
  return mix_images(images, latest_);
}

torch::Tensor Objective::loss(const models::ModelOutput& output,
                              const torch::Tensor& target) const {
  if (!mix_.enabled()) return training_loss(kind_, output, target, loss_);
  const auto soft = mix_targets(target, output.logits.size(1), loss_.label_smoothing, latest_);
  return soft_target_cross_entropy(output.logits, soft);
}

}  // namespace scenery::train
