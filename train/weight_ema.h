// An exponential moving average of the weights, as timm's ModelEmaV2: after
// every optimizer step each floating-point parameter and buffer v of the
// model moves its average e to decay * e + (1 - decay) * v; integer buffers
// (BatchNorm's num_batches_tracked) are copied. The trainer validates the
// average alongside the weights, writes it as ema.ckpt (a checkpoint like any
// other, loadable by scenery-eval and torchvision by name) and keeps it in
// last.ckpt, so a resumed run averages exactly as an uninterrupted one.
#pragma once

#include <string>

#include "models/checkpoint.h"
#include "models/scene_model.h"

namespace scenery::train {

class WeightEma {
 public:
  // Starts from the model's current weights (timm does the same).
  WeightEma(const models::SceneModel& model, double decay);

  void update(const models::SceneModel& model);
  // Exchanges the model's weights with the average, in place (twice = undone):
  // what validation and ema.ckpt use.
  void swap(models::SceneModel& model);

  double decay() const { return decay_; }
  // The average by state-dict name (CPU copies), for last.ckpt.
  models::StateDict state() const;
  // Restores it; CheckpointError naming `where` if names or shapes differ.
  void load(const models::StateDict& state, const std::string& where);

 private:
  double decay_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> average_;
};

}  // namespace scenery::train
