// Helpers shared by the test executables: temp dirs, running the tools.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// A GoogleTest expectation that `haystack` (any string-like) contains `needle`,
// printing the haystack when it does not.
#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

namespace scenery::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` (creating parent folders).
void write_text(const std::filesystem::path& path, const std::string& content);
std::string read_text(const std::filesystem::path& path);

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
// Runs a shell command and captures what it prints.
CommandResult run_command(const std::string& command);

// Runs the command (through /bin/sh, `exec`ed so the tool is the child) and
// also reports the peak resident memory the kernel measured for it.
struct MeasuredResult {
  int exit_code;
  std::string output;
  int64_t peak_rss_kb;  // getrusage's ru_maxrss of the process
};
MeasuredResult run_command_measured(const std::string& command);

// Peak resident memory of this process so far, in kB.
int64_t own_peak_rss_kb();

// Runs the commands at the same time (one per data-parallel rank, say) and
// returns their results in order.
std::vector<CommandResult> run_commands_together(const std::vector<std::string>& commands);

// A TCP port on 127.0.0.1 that nothing listens on right now.
uint16_t free_port();

// Path of a built executable (e.g. "scenery-train").
std::string tool_path(const std::string& name);

}  // namespace scenery::testing
