#include "train/resume.h"

#include <fmt/core.h>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "models/optimizer_state.h"

namespace scenery::train {
namespace fs = std::filesystem;

StartPlan plan_start(Tristate resume, const std::string& weights, const RunDir& run) {
  const bool have_last = fs::exists(run.last());
  if (!weights.empty() && resolve(resume, have_last)) {
    // The same launch command resumes a fine-tuning run: last.ckpt records
    // which weights file started it, and resuming wins when that file is the
    // one named now (a torchrun restart re-runs the command unchanged).
    std::string recorded, recorded_sha;
    if (have_last) {
      try {
        const auto ckpt = models::read_checkpoint(run.last());
        if (ckpt.training) {
          recorded = ckpt.training->init_weights;
          recorded_sha = ckpt.training->init_weights_sha256;
        }
      } catch (const CheckpointError&) {
        // Unreadable: it records nothing, and the conflict below is the error to report.
      }
    }
    const std::string sha = recorded_sha.empty() || !fs::is_regular_file(weights)
                                ? std::string()
                                : sha256_file(weights);
    if (!recorded_sha.empty() && sha == recorded_sha) {
      StartPlan plan{StartMode::kResume, run.last(), {}, {}};
      plan.init_weights = weights;
      plan.init_weights_sha256 = sha;
      return plan;
    }
    throw ConfigError(fmt::format(
        "train.resume and model.weights are mutually exclusive: {} would resume from {} but "
        "model.weights = '{}' asks to initialise from weights{}. Resume with --model.weights '' "
        "(the weights are already in last.ckpt), or start over with --train.resume no",
        resume == Tristate::kYes ? "train.resume = yes" : "train.resume = auto",
        run.last().string(), weights,
        recorded_sha.empty()
            ? std::string()
            : fmt::format(" (SHA-256 {}), not the file that started this run: '{}' (SHA-256 {})",
                          sha.empty() ? "unreadable" : sha.substr(0, 16), recorded,
                          recorded_sha.substr(0, 16))));
  }
  if (resume == Tristate::kYes && !have_last) {
    throw ConfigError(
        fmt::format("train.resume = yes but there is no {} to resume from", run.last().string()));
  }
  if (have_last && resume != Tristate::kNo) return {StartMode::kResume, run.last(), {}, {}};
  if (!weights.empty()) {
    if (!fs::is_regular_file(weights)) {
      throw ConfigError(fmt::format("model.weights: no such file '{}'", weights));
    }
    StartPlan plan{StartMode::kInitWeights, weights, {}, {}};
    plan.init_weights = weights;
    plan.init_weights_sha256 = sha256_file(weights);
    return plan;
  }
  return {StartMode::kFresh, {}, {}, {}};
}

models::TrainingState make_training_state(BuiltOptimizer& optimizer,
                                          const models::SceneModel& model, const ResumeState& p,
                                          const torch::Tensor& rank_rng_states,
                                          const torch::Tensor& rank_losses) {
  models::TrainingState t;
  t.optimizer = models::optimizer_name(*optimizer.optimizer);
  t.optimizer_state =
      models::export_optimizer_state(*optimizer.optimizer, model.named_parameters());
  t.epoch = p.epoch;
  t.iteration = p.iteration;
  t.scheduler = {{"position", static_cast<double>(p.position)},
                 {"epoch_offset", static_cast<double>(p.epoch_offset)},
                 {"batch_size", static_cast<double>(p.batch_size)},
                 {"loss_sum", p.loss_sum},
                 {"loss_count", static_cast<double>(p.loss_count)},
                 {"last_lr", p.last_lr},
                 {"best", p.best},
                 {"best_epoch", static_cast<double>(p.best_epoch)}};
  t.rng_state = models::cpu_rng_state();
  t.init_weights = p.init_weights;
  t.init_weights_sha256 = p.init_weights_sha256;
  if (rank_rng_states.defined() && rank_rng_states.size(0) > 1) {
    t.world_size = rank_rng_states.size(0);
    t.rank_rng_states = rank_rng_states;
    const auto losses = rank_losses.to(torch::kDouble).contiguous();
    for (int64_t r = 0; r < t.world_size; ++r) {
      t.scheduler[fmt::format("rank{}.loss_sum", r)] = losses[r][0].item<double>();
      t.scheduler[fmt::format("rank{}.loss_count", r)] = losses[r][1].item<double>();
    }
  }
  return t;
}

ResumeState resume_from(const fs::path& path, models::SceneModel& model,
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
  ResumeState p;
  p.epoch = t.epoch;
  p.iteration = t.iteration;
  p.position = static_cast<int64_t>(get("position", 0));
  p.epoch_offset = static_cast<int64_t>(get("epoch_offset", 0));
  p.batch_size = static_cast<int64_t>(get("batch_size", 0));
  p.loss_sum = get("loss_sum", 0);
  p.loss_count = static_cast<int64_t>(get("loss_count", 0));
  p.last_lr = get("last_lr", 0);
  p.best = get("best", -std::numeric_limits<double>::infinity());
  p.best_epoch = static_cast<int64_t>(get("best_epoch", 0));
  if (t.rng_state.defined()) models::set_cpu_rng_state(t.rng_state);
  p.saved_world_size = t.world_size;
  p.rank_rng_states = t.rank_rng_states;
  for (int64_t r = 0; t.world_size > 1 && r < t.world_size; ++r) {
    p.rank_loss_sum.push_back(get(fmt::format("rank{}.loss_sum", r).c_str(), 0));
    p.rank_loss_count.push_back(
        static_cast<int64_t>(get(fmt::format("rank{}.loss_count", r).c_str(), 0)));
  }
  p.init_weights = t.init_weights;
  p.ema_state = t.ema_state;
  p.init_weights_sha256 = t.init_weights_sha256;
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
