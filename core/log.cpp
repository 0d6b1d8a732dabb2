#include "core/log.h"

#include <fmt/chrono.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include "core/error.h"
#include "core/terminal.h"

namespace scenery::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_console_level{static_cast<int>(Level::kDebug)};
std::mutex g_mutex;
std::FILE* g_file = nullptr;

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "?";
}

}  // namespace

Level parse_level(std::string_view name) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == level_name(l)) return l;
  }
  throw ConfigError(
      fmt::format("invalid log level '{}': expected one of debug, info, warn, error", name));
}

void set_level(Level level) {
  g_level = static_cast<int>(level);
}
Level level() {
  return static_cast<Level>(g_level.load());
}
bool enabled(Level l) {
  return static_cast<int>(l) >= g_level.load();
}

void add_file(const std::filesystem::path& file) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::FILE* f = std::fopen(file.c_str(), "a");
  if (!f) {
    throw IoError(
        fmt::format("cannot open log file '{}': {}", file.string(), std::strerror(errno)));
  }
  if (g_file) std::fclose(g_file);
  g_file = f;
}

void set_console_level(Level level) {
  g_console_level = static_cast<int>(level);
}

void close_file() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file) std::fclose(g_file);
  g_file = nullptr;
}

void write(Level level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  const std::string line =
      fmt::format("{:%Y-%m-%d %H:%M:%S} {:<5} {}\n", local, level_name(level), message);
  std::lock_guard<std::mutex> lock(g_mutex);
  // A progress bar may own the current terminal line; start on a fresh one.
  if (static_cast<int>(level) >= g_console_level.load()) {
    terminal::clear_status_line(stderr);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
  if (g_file) {
    std::fputs(line.c_str(), g_file);
    std::fflush(g_file);
  }
}

}  // namespace scenery::log
