#include "train/losses.h"

#include "core/error.h"

namespace scenery::train {
namespace F = torch::nn::functional;

namespace {

torch::Tensor ce(const torch::Tensor& logits, const torch::Tensor& target, double smoothing,
                 int64_t ignore_index = -100) {
  return F::cross_entropy(
      logits.to(torch::kFloat), target,
      F::CrossEntropyFuncOptions().label_smoothing(smoothing).ignore_index(ignore_index));
}

// Mean CE over labelled pixels; a crop with no labelled pixel contributes 0
// (a plain mean would divide 0 by 0 and poison the run with NaN).
torch::Tensor pixel_ce(const torch::Tensor& logits, const torch::Tensor& target, double smoothing) {
  if (!target.ge(0).any().item<bool>()) return logits.sum().to(torch::kFloat) * 0.0;
  return ce(logits, target, smoothing, -1);
}

}  // namespace

torch::Tensor parsing_target(const torch::Tensor& masks, int64_t num_classes) {
  const auto m = masks.to(torch::kLong);
  return torch::where(m.ge(1).logical_and(m.le(num_classes)), m - 1, torch::full_like(m, -1));
}

torch::Tensor training_loss(models::ModelKind kind, const models::ModelOutput& out,
                            const torch::Tensor& labels, const LossOptions& o) {
  switch (kind) {
    case models::ModelKind::kClassifier:
      return ce(out.logits, labels, o.label_smoothing);
    case models::ModelKind::kTwoBranch: {
      auto loss = ce(out.logits, labels, o.label_smoothing);
      if (o.rgb_weight != 0 && out.rgb_logits.defined())
        loss = loss + o.rgb_weight * ce(out.rgb_logits, labels, o.label_smoothing);
      if (o.sem_weight != 0 && out.sem_logits.defined())
        loss = loss + o.sem_weight * ce(out.sem_logits, labels, o.label_smoothing);
      return loss;
    }
    case models::ModelKind::kParsing: {
      const auto target = parsing_target(labels, o.num_parsing_classes);
      auto loss = pixel_ce(out.logits, target, o.label_smoothing);
      if (o.aux_weight != 0 && out.aux_logits.defined())
        loss = loss + o.aux_weight * pixel_ce(out.aux_logits, target, o.label_smoothing);
      return loss;
    }
  }
  throw TrainError("unknown model kind");
}

}  // namespace scenery::train
