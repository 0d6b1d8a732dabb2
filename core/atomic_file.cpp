#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace scenery {
namespace fs = std::filesystem;

namespace {

fs::path temp_sibling(const fs::path& target) {
  return target.parent_path() /
         fmt::format(".{}.tmp.{}", target.filename().string(), static_cast<long>(::getpid()));
}

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) {
    if (directory) return;  // some filesystems refuse to open directories; the rename still holds
    throw IoError(
        fmt::format("cannot open '{}' to flush it: {}", path.string(), std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && !directory) {
    throw IoError(fmt::format("cannot flush '{}' to disk: {}", path.string(), std::strerror(err)));
  }
}

}  // namespace

void replace_file_atomic(const fs::path& target,
                         const std::function<void(const fs::path&)>& write) {
  const fs::path temp = temp_sibling(target);
  try {
    write(temp);
    fsync_path(temp, false);
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) {
      throw IoError(fmt::format("cannot move '{}' into place as '{}': {}", temp.string(),
                                target.string(), ec.message()));
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path(), true);
}

void write_file_atomic(const fs::path& target, std::string_view content) {
  replace_file_atomic(target, [&](const fs::path& temp) {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f) {
      throw IoError(fmt::format("cannot create '{}': {}", temp.string(), std::strerror(errno)));
    }
    const size_t written = std::fwrite(content.data(), 1, content.size(), f);
    int err = errno;  // meaningful only when the write came short (stdio sets it freely)
    // A full disk often shows only here: fwrite buffered it all, the flush fails.
    const bool closed = std::fclose(f) == 0;
    if (!closed && written == content.size()) err = errno;
    if (written != content.size() || !closed) {
      throw IoError(fmt::format("cannot write '{}' ({} of {} bytes accepted): {}", temp.string(),
                                written, content.size(), std::strerror(err)));
    }
  });
}

void ensure_writable_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw IoError(fmt::format("cannot create directory '{}': {}", dir.string(),
                              ec ? ec.message() : "a file of that name exists"));
  }
  const fs::path probe = dir / fmt::format(".write-probe.{}", static_cast<long>(::getpid()));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) {
    throw IoError(
        fmt::format("directory '{}' is not writable: {}", dir.string(), std::strerror(errno)));
  }
  std::fclose(f);
  fs::remove(probe, ec);
}

}  // namespace scenery
