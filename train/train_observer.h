// Where per-step and per-epoch observers (a TensorBoard or JSON-lines writer)
// plug into the training loop without touching it: Trainer::add_observer.
// Every rank calls its own observers; one that writes files should do so on
// rank 0 only (`writer`), as the trainer does with its own files.
#pragma once

#include <cstdint>

#include "train/run_dir.h"
#include "train/validate.h"

namespace scenery::train {

// After each optimizer step.
struct StepReport {
  bool writer = true;       // rank 0 (or the only process)
  int64_t epoch = 0;        // 1-based epoch in progress
  int64_t iteration = 0;    // optimizer steps of the whole run, this one included
  int64_t position = 0;     // batches of the epoch consumed
  int64_t num_batches = 0;  // batches per epoch
  double loss = 0;          // this rank's running mean loss of the epoch
  double lr = 0;            // head learning rate of this step
  double images_per_s = 0;  // all ranks, since the epoch started
  double data_wait = 0;     // share of the epoch spent waiting for the loader
  double grad_norm = -1;    // global gradient L2 norm before clipping; -1 when not clipping
};

struct ValidationPictures;  // train/validation_pictures.h

// After each finished epoch, once metrics.csv has its row.
struct EpochReport {
  bool writer = true;
  int64_t iteration = 0;       // optimizer steps of the whole run so far
  const MetricsRow& row;       // the metrics.csv row (loss over all ranks)
  const Metrics* metrics;      // validation, or null when none ran this epoch
  const Metrics* ema_metrics;  // validation of the weight average, or null
  // Pictures of the validation (rank 0, log.images), or null.
  const ValidationPictures* pictures = nullptr;
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_step(const StepReport&) {}
  virtual void on_epoch(const EpochReport&) {}
};

}  // namespace scenery::train
