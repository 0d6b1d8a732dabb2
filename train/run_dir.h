// The run directory (train.run_dir) and what lives in it:
//   config.cfg      resolved configuration (Config::write_resolved)
//   train.log       every log line of every (resumed) process (rank 0's)
//   train.rankN.log data-parallel rank N's own log
//   last.ckpt       model + training state, each epoch and on interruption
//   best.ckpt       weights of the best validation epoch (train.best_metric)
//   ema.ckpt        the weight average (train.ema_decay), each epoch
//   epoch_NNN.ckpt  every train.save_every epochs (weights only)
//   metrics.csv     one row per finished epoch
// All files are replaced atomically, so a crash or a full disk leaves the
// previous version readable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace scenery::train {

class RunDir {
 public:
  // Creates the folder and proves a file can be created in it (IoError otherwise),
  // before anything slow happens.
  explicit RunDir(std::filesystem::path dir);
  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path last() const { return dir_ / "last.ckpt"; }
  std::filesystem::path best() const { return dir_ / "best.ckpt"; }
  std::filesystem::path ema() const { return dir_ / "ema.ckpt"; }
  std::filesystem::path epoch_checkpoint(int64_t epoch) const;  // epoch_007.ckpt
  std::filesystem::path metrics() const { return dir_ / "metrics.csv"; }
  std::filesystem::path log() const { return dir_ / "train.log"; }
  // Data-parallel ranks other than 0 log here (rank 0 writes train.log).
  std::filesystem::path rank_log(int rank) const {
    return dir_ / ("train.rank" + std::to_string(rank) + ".log");
  }

 private:
  std::filesystem::path dir_;
};

// One metrics.csv row. Validation columns stay empty when not measured.
// images_per_s and data_wait are timing: they differ between runs of the same
// recipe, which is why they come last and are the only columns an exact
// resume test ignores.
struct MetricsRow {
  int64_t epoch = 0;  // 1-based, finished epochs
  double train_loss = 0;
  double lr = 0;
  std::optional<double> top1, top5, mca, pixel_acc, miou;
  double images_per_s = 0;
  double data_wait = 0;  // share of the epoch spent waiting for the loader
};

class MetricsCsv {
 public:
  static const std::vector<std::string>& columns();
  static const std::vector<std::string>& timing_columns();

  // Reads `file` if it exists and keeps the rows of epochs <= `keep_epochs`
  // (a resumed run drops rows a crash left beyond its checkpoint).
  MetricsCsv(std::filesystem::path file, int64_t keep_epochs);
  // Appends a row and rewrites the file atomically.
  void append(const MetricsRow& row);
  void flush() const;

 private:
  std::filesystem::path file_;
  std::vector<std::string> lines_;  // data rows, without the header
};

}  // namespace scenery::train
