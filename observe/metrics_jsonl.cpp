#include "observe/metrics_jsonl.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_writer.h"

namespace scenery::observe {
namespace {

// The "step" of a line this class wrote (it comes first), or -1 for a line
// that is not one (torn by a crash, edited by hand): those are dropped too.
int64_t step_of(const std::string& line) {
  static constexpr std::string_view kPrefix = "{\"step\":";
  if (line.compare(0, kPrefix.size(), kPrefix) != 0 || line.back() != '}') return -1;
  char* end = nullptr;
  const long long step = std::strtoll(line.c_str() + kPrefix.size(), &end, 10);
  return end && (*end == ',' || *end == '}') ? step : -1;
}

// Rewritten only when something is dropped; a file that is not a regular
// file (a device, a pipe a user pointed it at) is appended to as it is.
void keep_lines_through(const std::filesystem::path& file, int64_t keep_through_step) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return;
  std::ifstream in(file);
  std::string kept, line;
  bool dropped = false;
  while (std::getline(in, line)) {
    const int64_t step = step_of(line);
    if (step >= 0 && step <= keep_through_step)
      kept += line + "\n";
    else
      dropped = true;
  }
  if (dropped) write_file_atomic(file, kept);
}

[[noreturn]] void throw_io(const std::filesystem::path& file, const char* what) {
  throw IoError(fmt::format("cannot {} '{}': {}", what, file.string(), std::strerror(errno)));
}

}  // namespace

std::string metrics_json_line(int64_t step, int64_t epoch, double wall_time,
                              const Scalars& values) {
  JsonWriter json(false);
  json.begin_object().value("step", step);
  if (epoch >= 0) json.value("epoch", epoch);
  json.value("time", wall_time);
  for (const auto& [key, value] : values)
    json.value(key, value);
  json.end_object();
  std::string line = json.str();
  while (!line.empty() && line.back() == '\n')
    line.pop_back();
  return line;
}

MetricsJsonl::MetricsJsonl(std::filesystem::path file, int64_t keep_through_step)
    : file_(std::move(file)) {
  keep_lines_through(file_, keep_through_step);
  out_ = std::fopen(file_.c_str(), "ab");
  if (!out_) throw_io(file_, "open for writing");
}

MetricsJsonl::~MetricsJsonl() {
  if (out_) std::fclose(out_);
}

void MetricsJsonl::append(int64_t step, int64_t epoch, double wall_time, const Scalars& values) {
  const std::string line = metrics_json_line(step, epoch, wall_time, values) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size()) throw_io(file_, "write");
}

void MetricsJsonl::flush() {
  if (std::fflush(out_) != 0) throw_io(file_, "write");
}

}  // namespace scenery::observe
