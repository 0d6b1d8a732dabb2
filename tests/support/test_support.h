// Helpers shared by the test executables: temp dirs, running the tools.
#pragma once

#include <filesystem>
#include <string>

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

// Path of a built executable (e.g. "scenery-train").
std::string tool_path(const std::string& name);

}  // namespace scenery::testing
