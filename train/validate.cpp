#include "train/validate.h"

#include <algorithm>

#include "distributed/collectives.h"
#include "eval/classification_meter.h"
#include "eval/segmentation_meter.h"

namespace scenery::train {

std::optional<Metrics> validate(models::SceneModel& model, data::Loader& loader,
                                const data::NormalizeParams& normalize,
                                const eval::SemanticProvider& semantic, const Hardware& hw,
                                const std::function<bool()>& should_stop,
                                dist::ProcessGroup* group) {
  const bool parsing = model.kind() == models::ModelKind::kParsing;
  const int64_t top5 = std::min<int64_t>(5, model.num_classes());
  eval::ClassificationMeter classes(parsing ? 1 : model.num_classes(), {1, top5});
  eval::SegmentationMeter pixels(static_cast<int>(parsing ? model.num_classes() : 150));
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  bool stopped = false;
  while (auto batch = loader.next()) {
    if (should_stop()) {
      stopped = true;
      break;
    }
    models::ModelOutput out;
    {
      AutocastScope autocast(hw);
      const auto images = images_to_device(batch->images, hw, normalize);
      out = model.forward(images, semantic(*batch, images));
    }
    if (parsing) {
      const auto prediction = out.logits.argmax(1).add(1).to(torch::kCPU, torch::kUInt8);
      pixels.add(prediction, batch->masks.clamp(0, 255).to(torch::kUInt8));
    } else {
      classes.add(out.logits.to(torch::kCPU, torch::kFloat), batch->labels);
    }
  }
  model.train(was_training);
  if (stopped) return std::nullopt;
  if (parsing)
    dist::merge_meter(pixels, group);
  else
    dist::merge_meter(classes, group);
  if (parsing) return Metrics{{"pixel_acc", pixels.pixel_accuracy()}, {"miou", pixels.mean_iou()}};
  return Metrics{{"top1", classes.topk(1)},
                 {"top5", classes.topk(top5)},
                 {"mca", classes.mean_class_accuracy()}};
}

}  // namespace scenery::train
