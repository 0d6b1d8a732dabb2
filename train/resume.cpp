#include "train/resume.h"

#include <fmt/core.h>

#include "core/error.h"
#include "core/log.h"
#include "models/optimizer_state.h"

namespace scenery::train {
namespace fs = std::filesystem;

StartPlan plan_start(const std::string& resume, const std::string& weights, const RunDir& run) {
  if (resume != "auto" && resume != "yes" && resume != "no") {
    throw ConfigError(fmt::format("train.resume: expected auto, yes or no, got '{}'", resume));
  }
  const bool have_last = fs::exists(run.last());
  if (!weights.empty() && (resume == "yes" || (resume == "auto" && have_last))) {
    throw ConfigError(fmt::format(
        "train.resume and model.weights are mutually exclusive: {} would resume from {} but "
        "model.weights = '{}' asks to initialise from weights. Resume with --model.weights '' "
        "(the weights are already in last.ckpt), or start over with --train.resume no",
        resume == "yes" ? "train.resume = yes" : "train.resume = auto", run.last().string(),
        weights));
  }
  if (resume == "yes" && !have_last) {
    throw ConfigError(
        fmt::format("train.resume = yes but there is no {} to resume from", run.last().string()));
  }
  if (have_last && resume != "no") return {StartMode::kResume, run.last()};
  if (!weights.empty()) {
    if (!fs::is_regular_file(weights)) {
      throw ConfigError(fmt::format("model.weights: no such file '{}'", weights));
    }
    return {StartMode::kInitWeights, weights};
  }
  return {StartMode::kFresh, {}};
}

models::TrainingState make_training_state(BuiltOptimizer& optimizer,
                                          const models::SceneModel& model, const TrainPosition& p) {
  models::TrainingState t;
  t.optimizer = models::optimizer_name(*optimizer.optimizer);
  t.optimizer_state =
      models::export_optimizer_state(*optimizer.optimizer, model.named_parameters());
  t.epoch = p.epoch;
  t.iteration = p.iteration;
  t.scheduler = {{"position", static_cast<double>(p.position)},
                 {"loss_sum", p.loss_sum},
                 {"loss_count", static_cast<double>(p.loss_count)},
                 {"last_lr", p.last_lr},
                 {"best", p.best},
                 {"best_epoch", static_cast<double>(p.best_epoch)}};
  t.rng_state = models::cpu_rng_state();
  return t;
}

TrainPosition resume_from(const fs::path& path, models::SceneModel& model,
                          BuiltOptimizer& optimizer) {
  models::Checkpoint ckpt = models::read_checkpoint(path);
  if (ckpt.meta.arch != model.arch()) {
    throw CheckpointError(
        fmt::format("{}: holds a '{}' model but the recipe asks for '{}' (model.arch); use another "
                    "train.run_dir or --train.resume no",
                    path.string(), ckpt.meta.arch, model.arch()));
  }
  if (ckpt.meta.num_classes != model.num_classes()) {
    throw CheckpointError(fmt::format(
        "{}: has {} classes but the model has {} (model.num_classes / the dataset); use "
        "another train.run_dir, or --train.resume no to start over",
        path.string(), ckpt.meta.num_classes, model.num_classes()));
  }
  if (!ckpt.training) {
    throw CheckpointError(fmt::format("{}: has no training state to resume from", path.string()));
  }
  models::load_state_dict(model, ckpt.state_dict, models::LoadMode::kStrict, path.string());
  const auto& t = *ckpt.training;
  const std::string kind = models::optimizer_name(*optimizer.optimizer);
  if (!t.optimizer.empty() && t.optimizer != kind) {
    throw CheckpointError(fmt::format("{}: optimizer state is '{}' but train.optimizer is '{}'",
                                      path.string(), t.optimizer, kind));
  }
  models::import_optimizer_state(*optimizer.optimizer, model.named_parameters(), t.optimizer_state);
  const auto get = [&](const char* key, double fallback) {
    auto it = t.scheduler.find(key);
    return it == t.scheduler.end() ? fallback : it->second;
  };
  TrainPosition p;
  p.epoch = t.epoch;
  p.iteration = t.iteration;
  p.position = static_cast<int64_t>(get("position", 0));
  p.loss_sum = get("loss_sum", 0);
  p.loss_count = static_cast<int64_t>(get("loss_count", 0));
  p.last_lr = get("last_lr", 0);
  p.best = get("best", -std::numeric_limits<double>::infinity());
  p.best_epoch = static_cast<int64_t>(get("best_epoch", 0));
  if (t.rng_state.defined()) models::set_cpu_rng_state(t.rng_state);
  return p;
}

bool init_from_weights(const fs::path& path, models::SceneModel& model) {
  models::Checkpoint ckpt = models::read_checkpoint(path);
  // The head fits when every head tensor of the checkpoint has the model's shape.
  bool head_fits = true;
  const auto mine = model.state_dict();
  for (const auto& item : mine) {
    if (!model.is_head_parameter(item.key())) continue;
    const torch::Tensor* theirs = ckpt.state_dict.find(item.key());
    if (!theirs) theirs = ckpt.state_dict.find("module." + item.key());
    if (!theirs || theirs->sizes() != item.value().sizes()) head_fits = false;
  }
  const auto mode = head_fits ? models::LoadMode::kStrict : models::LoadMode::kFineTune;
  const auto report = models::load_state_dict(model, ckpt.state_dict, mode, path.string());
  log::info("initialised from {}: {} tensors loaded{}", path.string(), report.loaded.size(),
            head_fits ? "" : fmt::format(", new {}-way head", model.num_classes()));
  return !head_fits;
}

}  // namespace scenery::train
