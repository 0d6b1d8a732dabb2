// What a training run or an evaluation records for people to watch: the
// TensorBoard event file and metrics.jsonl in one folder, written by a
// background thread so the caller never waits on the disk.
//
//   RunRecorder recorder(run_dir, {});
//   recorder.scalars(step, epoch, {{"train/loss", 0.7}, {"train/lr", 0.1}});
//   recorder.image(step, "val/confusion", picture);  // PNG-encoded off the caller's thread
//
// Files are flushed every `flush_s` seconds, by flush(), and when the
// recorder is destroyed (also after a SIGTERM stopped a run). When the disk
// refuses a write (full, I/O error), the recorder warns once and records
// nothing more: watching a run must never fail it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <opencv2/core.hpp>

#include "observe/metrics_jsonl.h"

namespace scenery::observe {

class EventFile;

struct RecorderOptions {
  double flush_s = 30;
  // A resumed run continues after this step: metrics.jsonl keeps its lines up
  // to it and the new event file tells TensorBoard to forget later steps of
  // the earlier files. -1: a fresh start (metrics.jsonl starts empty).
  int64_t resume_step = -1;
  std::string event_file;                    // name in the folder; empty: event_file_name()
  std::string jsonl_file = "metrics.jsonl";  // empty: no JSON lines
};

class RunRecorder {
 public:
  RunRecorder(std::filesystem::path dir, RecorderOptions options);
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  // Each value as a TensorBoard scalar, all as one JSON line. `epoch` < 0: none.
  void scalars(int64_t step, int64_t epoch, Scalars values);
  // An 8-bit BGR (or grey) picture, PNG-encoded in the background.
  void image(int64_t step, std::string tag, cv::Mat picture);
  void text(int64_t step, std::string tag, std::string text);
  // Returns once everything recorded so far is in the system's hands.
  void flush();
  // True once a write failed (the warning was given; nothing more is written).
  bool failed() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  using Task = std::function<void()>;
  void post(Task task);
  void work();
  void run_task(const Task& task);
  void flush_files();

  std::filesystem::path dir_;
  RecorderOptions options_;
  std::unique_ptr<EventFile> events_;  // the worker's alone
  std::unique_ptr<MetricsJsonl> jsonl_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  std::thread worker_;
};

}  // namespace scenery::observe
