#include "observe/record_file.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"
#include "observe/crc32c.h"

namespace scenery::observe {
namespace {

void append_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

[[noreturn]] void throw_write_error(const std::filesystem::path& file, const char* what, int err) {
  throw IoError(fmt::format("cannot {} '{}': {}", what, file.string(), std::strerror(err)));
}

}  // namespace

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  append_le(out, data.size(), 8);
  append_le(out, masked_crc32c(std::string_view(out.data(), 8)), 4);
  out.append(data);
  append_le(out, masked_crc32c(data), 4);
  return out;
}

RecordFile::RecordFile(std::filesystem::path file) : file_(std::move(file)) {
  out_ = std::fopen(file_.c_str(), "ab");
  if (!out_) throw_write_error(file_, "open for writing", errno);
}

RecordFile::~RecordFile() {
  if (out_) std::fclose(out_);
}

void RecordFile::put(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size())
    throw_write_error(file_, "write", errno);
}

void RecordFile::write(std::string_view data) {
  put(frame_record(data));
}

void RecordFile::flush() {
  if (std::fflush(out_) != 0) throw_write_error(file_, "write", errno);
}

}  // namespace scenery::observe
