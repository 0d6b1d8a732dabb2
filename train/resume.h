// How a run starts (fresh, resumed from run_dir/last.ckpt, or initialised from
// model.weights for fine-tuning) and the resume state a checkpoint carries, so
// an interrupted and resumed run retraces the uninterrupted one exactly:
// weights, optimizer moments by parameter name, epoch, batch position in the
// epoch, optimizer steps, the epoch's running loss, best metric and the CPU RNG
// (dropout) state. The schedule is a pure function of (epoch, iteration) and
// needs nothing more.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "models/checkpoint.h"
#include "train/optimizers.h"
#include "train/run_dir.h"

namespace scenery::train {

enum class StartMode { kFresh, kResume, kInitWeights };

struct StartPlan {
  StartMode mode = StartMode::kFresh;
  std::filesystem::path checkpoint;  // last.ckpt or model.weights
  std::string init_weights;          // model.weights behind the run (kInitWeights, or a
  std::string init_weights_sha256;   // resume whose last.ckpt records this very file)
};

// `resume`: auto | yes | no (train.resume); `weights`: model.weights.
// Resuming and initialising from weights are mutually exclusive, except that
// resuming wins when last.ckpt records that this very weights file (same
// SHA-256) started the run, so the same launch command resumes a fine-tuning
// run. Otherwise asking for both, or leaving resume at auto with weights set
// while run_dir/last.ckpt exists, is a ConfigError (exit 2) raised before
// anything slow. Also a ConfigError: resume=yes without last.ckpt, weights
// naming a missing file.
StartPlan plan_start(Tristate resume, const std::string& weights, const RunDir& run);

// The resume state: where training stands (epoch, batch, steps, running loss)
// and what a resumed run carries on with (best metric, every rank's part, the
// initial weights, the weight average). Stored in TrainingState (epoch,
// iteration) and its `scheduler` map (the counters, as exact doubles).
struct ResumeState {
  int64_t epoch = 0;     // epoch in progress (0-based)
  int64_t position = 0;  // batches of that epoch already consumed (after epoch_offset)
  // Global samples of the epoch consumed before batch 0 of this launch's
  // layout: non-zero after resuming mid-epoch with another world size.
  int64_t epoch_offset = 0;
  int64_t batch_size = 0;  // per-rank batch size `position` counts in (0: unknown, older files)
  int64_t iteration = 0;   // optimizer steps taken since the start
  double loss_sum = 0;     // sum over the epoch's batches of loss * batch size
  int64_t loss_count = 0;  // images behind loss_sum
  double last_lr = 0;      // head lr of the latest step
  double best = -std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0;  // 1-based epoch of `best`; 0: none yet
  // Data parallelism: every rank's part of the resume state, as last saved.
  int64_t saved_world_size = 1;
  torch::Tensor rank_rng_states;      // [saved_world_size, S]; undefined for 1 rank
  std::vector<double> rank_loss_sum;  // per rank; empty for 1 rank
  std::vector<int64_t> rank_loss_count;
  std::string init_weights, init_weights_sha256;  // recorded model.weights
  models::StateDict ema_state;                    // the weight average, if the run kept one
};

// `rank_rng_states` [W, S] and `rank_losses` [W, 2] (loss_sum, loss_count)
// hold every data-parallel rank's part; undefined for a single process.
models::TrainingState make_training_state(BuiltOptimizer& optimizer,
                                          const models::SceneModel& model, const ResumeState& state,
                                          const torch::Tensor& rank_rng_states = {},
                                          const torch::Tensor& rank_losses = {});

// Reads last.ckpt into `model` and `optimizer`, restores the RNG and returns the
// resume state. Throws CheckpointError when the checkpoint's arch or class count
// differs from the model's (naming both), or it has no training state.
ResumeState resume_from(const std::filesystem::path& checkpoint, models::SceneModel& model,
                        BuiltOptimizer& optimizer);

// Initialises `model` from weights for fine-tuning: a strict load when the head
// fits, otherwise the body only (the head keeps its fresh initialisation).
// Returns true when the head was replaced.
bool init_from_weights(const std::filesystem::path& weights, models::SceneModel& model);

}  // namespace scenery::train
