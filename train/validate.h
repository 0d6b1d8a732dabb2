// Validation during training: the official metrics on the val split, through
// the integrator's meters (eval/): Top@1/Top@5/MCA (present-classes
// convention) for scene models, pixel accuracy/mIoU for parsing. Parsing is
// validated on the eval crop (resize + centre crop), a fast proxy of the
// full-image protocol scenery-eval runs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "data/loader.h"
#include "distributed/process_group.h"
#include "eval/classification_meter.h"
#include "eval/semantic_provider.h"
#include "models/scene_model.h"
#include "train/hardware.h"

namespace scenery::train {

// Keys: top1, top5, mca (classifier, two-branch); pixel_acc, miou (parsing).
using Metrics = std::map<std::string, double>;

// What a validation pass keeps for pictures of it (train/validation_pictures.h):
// set `samples` and pass it to validate().
struct ValidationCapture {
  int64_t samples = 0;  // how many of this rank's first images to keep
  // Out: classifiers' meter, merged over the ranks (the confusion matrix).
  std::optional<eval::ClassificationMeter> meter;
  // Out: the first `samples` images of this rank as the loader gave them
  // (CPU), with their labels (classifiers) or masks (parsing).
  data::Batch first;
};

// Runs one pass over `loader` (already started) in eval mode and restores
// training mode. Returns nullopt when `should_stop` turned true midway.
// Images may be uint8 (normalised with `normalize`) or already normalised.
// With `merge`, each rank passes over its shard and the meters' integer
// counts are summed before any division, so the metrics are bitwise the
// single-process ones.
std::optional<Metrics> validate(models::SceneModel& model, data::Loader& loader,
                                const data::NormalizeParams& normalize,
                                const eval::SemanticProvider& semantic, const Hardware& hw,
                                const std::function<bool()>& should_stop,
                                dist::ProcessGroup* group = nullptr,
                                ValidationCapture* capture = nullptr);

}  // namespace scenery::train
