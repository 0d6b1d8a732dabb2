// A progress display for long loops: on a terminal, a redrawn bar with
// items/s and ETA; otherwise (CI logs, pipes) a plain line every few seconds,
// so logs stay readable and small.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

namespace scenery {

class Progress {
 public:
  struct Options {
    std::FILE* out = stderr;         // nullptr: draw nothing (a data-parallel rank other than 0)
    int tty = -1;                    // -1: detect from `out`; 0/1: force
    double redraw_interval_s = 0.1;  // terminal redraw throttle
    double plain_interval_s = 10.0;  // seconds between plain lines
    std::string unit = "it";         // "img", "batch", ...
    std::function<double()> clock;   // seconds; defaults to a steady clock
  };

  // `total` <= 0 means unknown: no percentage or ETA is shown.
  Progress(std::string label, int64_t total, Options options);
  Progress(std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe. `status` (e.g. "loss 2.31 lr 0.1") is shown after the rate.
  void advance(int64_t n = 1);
  void set_status(std::string status);
  // Prints the final line (always, in both modes). Idempotent.
  void finish();

  int64_t done() const;
  // The line as it would be drawn now (without terminal control codes).
  std::string line() const;

 private:
  double now() const;
  std::string line_locked(double t) const;
  void maybe_draw_locked(bool force);

  std::string label_;
  int64_t total_;
  Options options_;
  bool tty_;
  double start_;
  double last_draw_ = -1e9;
  int64_t drawn_done_ = -1;  // the count the last plain line showed
  int64_t done_ = 0;
  std::string status_;
  bool finished_ = false;
  mutable std::mutex mutex_;
};

// "01:02:03" or "02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace scenery
