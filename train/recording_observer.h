// The run's watchable record (the [log] options): a TensorBoard event file
// and metrics.jsonl in the run directory, written by rank 0 off the training
// thread (observe/run_recorder.h).
//   every log.every optimizer steps: train/loss (this rank's running mean of
//     the epoch), train/lr, train/images_per_s, train/data_wait, and
//     train/grad_norm when train.clip_grad_norm is on;
//   every epoch end: epoch/train_loss, epoch/lr, epoch/images_per_s,
//     epoch/data_wait (metrics.csv's row), and after validation val/<metric>,
//     val_ema/<metric> and, with log.images, the pictures (val/confusion,
//     val/example_<i>);
//   once: the resolved configuration as text ("config").
// The step axis is the optimizer iteration of the whole run: a resumed run
// starts a new event file that continues the curves (observe::RecorderOptions).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/config.h"
#include "observe/run_recorder.h"
#include "train/train_observer.h"

namespace scenery::train {

struct RecordingOptions {
  bool enabled = true;
  int every = 50;       // optimizer steps between train/* scalars; 0: epoch ends only
  double flush_s = 30;  // the files reach the disk at least this often
  bool images = true;   // pictures at validation
  int examples = 4;     // validation images pictured
};

// Registers the [log] section.
void add_log_options(Config& config);
RecordingOptions recording_options_from_config(const Config& config);

class RecordingObserver : public TrainObserver {
 public:
  // `resume_step`: the iteration a resumed run continues from, -1 on a fresh start.
  RecordingObserver(const std::filesystem::path& run_dir, const RecordingOptions& options,
                    int64_t resume_step, const std::string& config_text);
  void on_step(const StepReport& report) override;
  void on_epoch(const EpochReport& report) override;
  void flush() { recorder_.flush(); }

 private:
  RecordingOptions options_;
  observe::RunRecorder recorder_;
};

}  // namespace scenery::train
