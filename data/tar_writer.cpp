#include "data/tar_writer.h"

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace scenery::data {

namespace {

// An octal number right-aligned in `width - 1` digits plus a NUL, as GNU tar and tarfile write.
void put_octal(char* field, size_t width, uint64_t value) {
  const std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

}  // namespace

TarWriter::TarWriter(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_)
    throw IoError(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
}

TarWriter::~TarWriter() {
  if (file_) std::fclose(file_);
}

void TarWriter::write(const void* data, size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, file_) != size)
    throw IoError(fmt::format("{}: write failed: {}", path_.string(), std::strerror(errno)));
  offset_ += size;
}

void TarWriter::pad_to_block() {
  static const std::array<char, kTarBlock> zeros{};
  if (const size_t rest = offset_ % kTarBlock; rest != 0) write(zeros.data(), kTarBlock - rest);
}

void TarWriter::write_header(const std::string& name, uint64_t size, char type) {
  std::array<char, kTarBlock> h{};
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  put_octal(h.data() + 100, 8, 0644);
  put_octal(h.data() + 108, 8, 0);
  put_octal(h.data() + 116, 8, 0);
  if (size < (uint64_t{1} << 33)) {
    put_octal(h.data() + 124, 12, size);
  } else {  // GNU base-256, for members of 8 GiB and more
    h[124] = static_cast<char>(0x80);
    for (int i = 11; i >= 1; --i, size >>= 8)
      h[124 + i] = static_cast<char>(size & 0xff);
  }
  put_octal(h.data() + 136, 12, 0);
  h[156] = type;
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  uint64_t sum = 0;
  for (char c : h)
    sum += static_cast<unsigned char>(c);
  put_octal(h.data() + 148, 7, sum);  // six digits, NUL, then the space already there
  write(h.data(), h.size());
}

TarMember TarWriter::add(const std::string& name, std::string_view data) {
  if (name.empty() || name.find('\0') != std::string::npos)
    throw ConfigError(fmt::format("{}: a tar member name must be non-empty text, got '{}'",
                                  path_.string(), name));
  TarMember m;
  m.name = name;
  m.header_offset = offset_;
  if (name.size() > 100) {
    // A pax record "LEN path=NAME\n": LEN counts its own digits too.
    const std::string body = " path=" + name + "\n";
    size_t length = body.size() + 1;
    while (std::to_string(length).size() + body.size() != length)
      ++length;
    const std::string record = std::to_string(length) + body;
    write_header("././@PaxHeader", record.size(), 'x');
    write(record.data(), record.size());
    pad_to_block();
  }
  write_header(name, data.size(), '0');
  m.data_offset = offset_;
  m.size = data.size();
  write(data.data(), data.size());
  pad_to_block();
  return m;
}

void TarWriter::finish() {
  static const std::array<char, 2 * kTarBlock> end{};
  write(end.data(), end.size());
  std::FILE* f = file_;
  file_ = nullptr;
  errno = 0;
  if (std::fclose(f) != 0)
    throw IoError(fmt::format("{}: write failed: {}", path_.string(),
                              errno ? std::strerror(errno) : "unknown error"));
}

}  // namespace scenery::data
