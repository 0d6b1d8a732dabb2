// Training losses per model kind:
//   classifier  CE(logits, label)                       (optional label smoothing)
//   two-branch  CE(fused) + rgb_weight * CE(rgb head) + sem_weight * CE(semantic head)
//               (Semantic-Aware Scene Recognition trains the fused classifier
//               together with both auxiliary heads; weights default to 1 each)
//   parsing     CE(logits, mask - 1) + aux_weight * CE(aux logits, mask - 1),
//               ignore_index -1: annotation 0 ("other") and values > 150 take no
//               part; the network predicts classes 1..150 as channels 0..149.
// Label smoothing uses LibTorch's own CrossEntropyFuncOptions::label_smoothing
// (present since 1.10). Logits are computed in float even under autocast.
#pragma once

#include <torch/torch.h>

#include "models/scene_model.h"

namespace scenery::train {

struct LossOptions {
  double label_smoothing = 0.0;
  double aux_weight = 0.4;  // parsing deep supervision (CSAIL)
  double rgb_weight = 1.0;  // two-branch auxiliary heads
  double sem_weight = 1.0;
  int64_t num_parsing_classes = 150;
};

// Parsing target from raw annotation values: v in 1..C -> v - 1, anything else -> -1.
torch::Tensor parsing_target(const torch::Tensor& masks, int64_t num_classes);

// `labels`: int64 [N] scene labels (classifier, two-branch) or the raw masks
// int64 [N,H,W] (parsing). Returns the scalar loss to back-propagate.
torch::Tensor training_loss(models::ModelKind kind, const models::ModelOutput& output,
                            const torch::Tensor& labels, const LossOptions& options);

}  // namespace scenery::train
