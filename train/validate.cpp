#include "train/validate.h"

#include <algorithm>

#include "distributed/collectives.h"
#include "eval/classification_meter.h"
#include "eval/segmentation_meter.h"

namespace scenery::train {
namespace {

// The first `samples` images of the pass (they may span batches).
void keep_first_samples(const data::Batch& batch, ValidationCapture& capture) {
  auto& kept = capture.first;
  const int64_t have = kept.images.defined() ? kept.images.size(0) : 0;
  const int64_t take = std::min<int64_t>(capture.samples - have, batch.images.size(0));
  if (take <= 0) return;
  const auto append = [&](torch::Tensor& into, const torch::Tensor& from) {
    if (!from.defined()) return;
    auto part = from.narrow(0, 0, take).to(torch::kCPU).contiguous();
    into = into.defined() ? torch::cat({into, part}) : part;
  };
  append(kept.images, batch.images);
  append(kept.labels, batch.labels);
  append(kept.masks, batch.masks);
  append(kept.semantic_channels, batch.semantic_channels);
  append(kept.semantic_scores, batch.semantic_scores);
}

}  // namespace

std::optional<Metrics> validate(models::SceneModel& model, data::Loader& loader,
                                const data::NormalizeParams& normalize,
                                const eval::SemanticProvider& semantic, const Hardware& hw,
                                const std::function<bool()>& should_stop, dist::ProcessGroup* group,
                                ValidationCapture* capture) {
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
    if (capture) keep_first_samples(*batch, *capture);
  }
  model.train(was_training);
  if (stopped) return std::nullopt;
  if (parsing)
    dist::merge_meter(pixels, group);
  else
    dist::merge_meter(classes, group);
  if (capture && !parsing) capture->meter = classes;
  if (parsing) return Metrics{{"pixel_acc", pixels.pixel_accuracy()}, {"miou", pixels.mean_iou()}};
  return Metrics{{"top1", classes.topk(1)},
                 {"top5", classes.topk(top5)},
                 {"mca", classes.mean_class_accuracy()}};
}

}  // namespace scenery::train
