#include "core/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/terminal.h"

namespace scenery {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::string label, int64_t total)
    : Progress(std::move(label), total, Options{}) {}

Progress::Progress(std::string label, int64_t total, Options options)
    : label_(std::move(label)), total_(total), options_(std::move(options)) {
  if (!options_.clock) {
    options_.clock = [] {
      using namespace std::chrono;
      return duration<double>(steady_clock::now().time_since_epoch()).count();
    };
  }
  tty_ = options_.out && (options_.tty < 0 ? terminal::is_tty(options_.out) : options_.tty == 1);
  start_ = now();
}

Progress::~Progress() {
  finish();
}

double Progress::now() const {
  return options_.clock();
}

void Progress::advance(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  maybe_draw_locked(false);
}

void Progress::set_status(std::string status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(status);
}

int64_t Progress::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

std::string Progress::line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return line_locked(now());
}

std::string Progress::line_locked(double t) const {
  const double elapsed = std::max(t - start_, 1e-9);
  const double rate = done_ / elapsed;
  std::string out = label_;
  if (total_ > 0) {
    const double frac = std::clamp(static_cast<double>(done_) / total_, 0.0, 1.0);
    out += fmt::format(" {:3.0f}%", frac * 100);
    if (tty_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(frac * kWidth);
      out += " |" + std::string(filled, '#') + std::string(kWidth - filled, ' ') + "|";
    }
    const double eta = rate > 0 ? (total_ - done_) / rate : -1;
    out += fmt::format(" {}/{} [{}<{}, {:.1f} {}/s]", done_, total_, format_duration(elapsed),
                       format_duration(eta), rate, options_.unit);
  } else {
    out +=
        fmt::format(" {} [{}, {:.1f} {}/s]", done_, format_duration(elapsed), rate, options_.unit);
  }
  if (!status_.empty()) out += " " + status_;
  return out;
}

void Progress::maybe_draw_locked(bool force) {
  if (!options_.out) return;
  const double t = now();
  const double interval = tty_ ? options_.redraw_interval_s : options_.plain_interval_s;
  if (!force && t - last_draw_ < interval) return;
  last_draw_ = t;
  drawn_done_ = done_;
  const std::string text = line_locked(t);
  if (tty_) {
    std::fputs(("\r\033[K" + text).c_str(), options_.out);
    terminal::mark_status_line(options_.out);
  } else {
    std::fputs((text + "\n").c_str(), options_.out);
  }
  std::fflush(options_.out);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  // A plain line already showing the final count is not printed again (logs
  // would end every short loop with the same line twice).
  if (tty_ || drawn_done_ != done_) maybe_draw_locked(true);
  if (tty_ && options_.out) {
    terminal::clear_status_line(options_.out);
    std::fputs((line_locked(now()) + "\n").c_str(), options_.out);
    std::fflush(options_.out);
  }
}

}  // namespace scenery
