// The training loop behind scenery-train.
//
//   scenery::Config config("scenery-train", "...");
//   scenery::train::add_all_train_options(config);
//   config.parse({"--config", "configs/quickstart.cfg"});
//   scenery::train::Trainer trainer(config);     // the whole setup; throws on bad input
//   trainer.add_observer(my_tensorboard_writer);  // optional: per-step and per-epoch reports
//   auto result = trainer.run();                  // or run_training(config)
//   return result.interrupted ? scenery::kExitInterrupted : scenery::kExitOk;
//
// Order of events: option values, the resume/weights conflict and a writable
// run directory are checked before any dataset or model is touched; then
// data, model, optimizer; then epochs of (train, validate every
// train.val_every epochs, metrics.csv row, best.ckpt, last.ckpt,
// epoch_NNN.ckpt). See run_dir.h for the files and resume.h for what a
// checkpoint carries.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/config.h"
#include "train/train_observer.h"
#include "train/validate.h"

namespace scenery::train {

struct TrainResult {
  bool interrupted = false;  // stopped by a signal or train.stop_after_iterations
  int signal = 0;            // the signal, when one stopped it
  int64_t epochs_done = 0;   // finished epochs (of the whole run, resumes included)
  int64_t iteration = 0;     // optimizer steps (whole run)
  std::filesystem::path run_dir;
  Metrics last_metrics;      // latest validation; empty if none ran
  Metrics last_ema_metrics;  // the same of the weight average (train.ema_decay)
  double images_per_s = 0;   // training throughput of the latest epoch
};

// One training run. Construction does the setup and throws what a bad setup
// throws (below): the launch, the run directory, hardware and process group,
// datasets, model, optimizer, resume and weight average, loaders. run() is
// the epoch loop; call it once.
class Trainer {
 public:
  explicit Trainer(const Config& config);  // `config` must outlive the Trainer
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Observers see every optimizer step and every finished epoch (train_observer.h).
  void add_observer(std::shared_ptr<TrainObserver> observer);
  TrainResult run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Trainer(config).run().
// Throws ConfigError (bad options, resume vs weights, class-count mismatch),
// IoError (run directory), DataError, CheckpointError, TrainError (NaN/inf
// loss: names epoch and iteration; last.ckpt keeps the last good state).
TrainResult run_training(const Config& config);

}  // namespace scenery::train
