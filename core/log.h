// Levelled logging through fmt. Lines go to stderr (so stdout stays clean for
// --dump-config and machine-readable output) and, once a run directory exists,
// also to its log file.
#pragma once

#include <fmt/core.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace scenery::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug|info|warn|error"; throws ConfigError naming the value otherwise.
Level parse_level(std::string_view name);
void set_level(Level level);
Level level();
bool enabled(Level level);

// Appends every later line to `file` as well (throws IoError if it cannot be opened).
void add_file(const std::filesystem::path& file);
// Messages below `level` go to the log file only, not to stderr (data-parallel
// ranks other than 0 print warnings and errors; their file has everything).
void set_console_level(Level level);
void close_file();

void write(Level level, std::string_view message);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace scenery::log
