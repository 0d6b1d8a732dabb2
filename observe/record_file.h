// A file of TFRecord records, the framing of TensorBoard's event files: each
// record is its length (uint64, little-endian), the masked CRC-32C of those 8
// bytes, the data, and the masked CRC-32C of the data.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string_view>

namespace scenery::observe {

class RecordFile {
 public:
  // Opens `file` for appending; IoError naming it when that fails.
  explicit RecordFile(std::filesystem::path file);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // Buffered; IoError (with the system's reason: a full disk, ...) when the
  // bytes cannot be handed to the system.
  void write(std::string_view data);
  // Hands buffered records to the system; IoError when it refuses them.
  void flush();
  const std::filesystem::path& path() const { return file_; }

 private:
  void put(std::string_view bytes);
  std::filesystem::path file_;
  std::FILE* out_ = nullptr;
};

// The 12-byte header and 4-byte footer around `data`, as written by RecordFile.
std::string frame_record(std::string_view data);

}  // namespace scenery::observe
