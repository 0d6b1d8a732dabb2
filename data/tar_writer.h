// Writing a tar archive the way every WebDataset reader expects: POSIX ustar
// headers (pax 'x' headers for names over 100 bytes, as Python's tarfile
// writes them), regular files only, and reproducible: mode 0644, owner 0:0, no
// user/group names, mtime 0, so the same members give the same bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "data/tar_reader.h"

namespace scenery::data {

class TarWriter {
 public:
  // Creates (truncates) `path`. Throws IoError naming it.
  explicit TarWriter(const std::filesystem::path& path);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Appends a regular file; returns where its data lie. Throws IoError (disk
  // full names the errno) and ConfigError for an empty name or one with a NUL.
  TarMember add(const std::string& name, std::string_view data);
  // Writes the end-of-archive blocks and closes the file (IoError on failure).
  void finish();
  uint64_t bytes_written() const { return offset_; }

 private:
  void write(const void* data, size_t size);
  void write_header(const std::string& name, uint64_t size, char type);
  void pad_to_block();

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
};

}  // namespace scenery::data
