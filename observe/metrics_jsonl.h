// metrics.jsonl: one JSON object per line, {"step":…, "epoch":…, "time":…,
// "train/loss":…}, the scalars of the event files for scripts and for users
// without TensorBoard.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace scenery::observe {

using Scalars = std::vector<std::pair<std::string, double>>;

// One line (without the newline); `epoch` < 0 leaves "epoch" out.
std::string metrics_json_line(int64_t step, int64_t epoch, double wall_time, const Scalars& values);

class MetricsJsonl {
 public:
  // Keeps the lines of an existing `file` up to step `keep_through_step`
  // (rewritten atomically; a resumed run drops what a crash logged past its
  // checkpoint; -1 keeps none) and appends after them. IoError naming the file.
  MetricsJsonl(std::filesystem::path file, int64_t keep_through_step);
  ~MetricsJsonl();
  MetricsJsonl(const MetricsJsonl&) = delete;
  MetricsJsonl& operator=(const MetricsJsonl&) = delete;

  void append(int64_t step, int64_t epoch, double wall_time, const Scalars& values);
  void flush();

 private:
  std::filesystem::path file_;
  std::FILE* out_ = nullptr;
};

}  // namespace scenery::observe
