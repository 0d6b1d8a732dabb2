#include "data/tar_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/error.h"

namespace scenery::data {

namespace {

uint64_t round_up_to_block(uint64_t n) {
  return (n + kTarBlock - 1) / kTarBlock * kTarBlock;
}

// A fixed-width text field: up to its first NUL.
std::string field_text(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

class HeaderParser {
 public:
  HeaderParser(const ReadAt& read, uint64_t total, const std::string& name)
      : read_(read), total_(total), name_(name) {}

  TarScan scan() {
    TarScan out;
    try {
      scan_into(out);
    } catch (const Damage& d) {
      out.damage = d.what;
    }
    return out;
  }

 private:
  struct Damage {
    std::string what;
  };

  void scan_into(TarScan& out) {
    uint64_t offset = 0;
    uint64_t member_start = 0;  // where the current member's first (extended) header began
    bool pending_extended = false;
    while (true) {
      if (offset == total_) break;  // no end marker: a cut at a member boundary
      if (offset + kTarBlock > total_)
        fail(offset,
             fmt::format("ends inside a header ({} of 512 bytes): truncated", total_ - offset));
      std::array<char, kTarBlock> h{};
      if (read_(offset, kTarBlock, h.data()) != kTarBlock) fail(offset, "cannot read header");
      if (all_zero(h)) {
        out.has_end_marker = true;
        break;
      }
      check_checksum(h, offset);
      if (!pending_extended) member_start = offset;
      const char type = h[156];
      uint64_t size = number(h.data() + 124, 12, offset, "size");
      if (type >= '1' && type <= '6') size = 0;  // links, devices, folders carry no data
      const uint64_t data = offset + kTarBlock;
      if (data + size > total_ || data + size < data)
        fail(offset, fmt::format("member '{}' declares {} bytes but the archive ends {} bytes "
                                 "after its header: truncated",
                                 pending_name_.value_or(header_name(h)), size, total_ - data));
      switch (type) {
        case 'x':  // pax: records for the next member
          read_pax(data, size, offset);
          pending_extended = true;
          break;
        case 'g':  // pax global header: nothing in it changes where data lie
          break;
        case 'L':  // GNU: the next member's long name
          pending_name_ = read_text(data, size, offset);
          pending_extended = true;
          break;
        case 'K':  // GNU long link name: links are skipped
          pending_extended = true;
          break;
        default: {
          const std::string member_name = pending_name_.value_or(header_name(h));
          const uint64_t member_size = pending_size_.value_or(size);
          if (member_size != size && data + member_size > total_)
            fail(offset, fmt::format("member '{}': pax size {} runs past the end: truncated",
                                     member_name, member_size));
          if (type == '0' || type == '\0' || type == '7')
            out.members.push_back({member_name, member_start, data, member_size});
          size = member_size;
          pending_name_.reset();
          pending_size_.reset();
          pending_extended = false;
        }
      }
      offset = data + round_up_to_block(size);
    }
  }

  [[noreturn]] void fail(uint64_t offset, const std::string& why) const {
    throw Damage{fmt::format("{}: tar header at byte {}: {}", name_, offset, why)};
  }

  static bool all_zero(const std::array<char, kTarBlock>& h) {
    for (char c : h)
      if (c != 0) return false;
    return true;
  }

  // The stored checksum is the sum of the header's bytes with the checksum
  // field read as spaces; old writers summed signed chars, so both are accepted.
  void check_checksum(const std::array<char, kTarBlock>& h, uint64_t offset) const {
    uint64_t unsigned_sum = 0;
    int64_t signed_sum = 0;
    for (size_t i = 0; i < kTarBlock; ++i) {
      const bool in_field = i >= 148 && i < 156;
      unsigned_sum += in_field ? ' ' : static_cast<unsigned char>(h[i]);
      signed_sum += in_field ? ' ' : static_cast<signed char>(h[i]);
    }
    const uint64_t stored = number(h.data() + 148, 8, offset, "checksum");
    if (stored != unsigned_sum && static_cast<int64_t>(stored) != signed_sum)
      fail(offset, fmt::format("checksum {} does not match the header's {} (not a tar archive, "
                               "or a damaged one)",
                               stored, unsigned_sum));
  }

  // Octal, space/NUL padded; or GNU base-256 when the high bit of the first byte is set.
  uint64_t number(const char* f, size_t width, uint64_t offset, const char* what) const {
    const auto* u = reinterpret_cast<const unsigned char*>(f);
    if (u[0] & 0x80) {
      if (u[0] != 0x80) fail(offset, fmt::format("negative or oversized base-256 {}", what));
      uint64_t v = 0;
      for (size_t i = 1; i < width; ++i) {
        if (v >> 56) fail(offset, fmt::format("base-256 {} does not fit 64 bits", what));
        v = (v << 8) | u[i];
      }
      return v;
    }
    size_t i = 0;
    while (i < width && (f[i] == ' ' || f[i] == '\0'))
      ++i;
    uint64_t v = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; ++i) {
      if (v >> 60) fail(offset, fmt::format("octal {} does not fit 64 bits", what));
      v = v * 8 + static_cast<uint64_t>(f[i] - '0');
    }
    for (; i < width; ++i)
      if (f[i] != ' ' && f[i] != '\0')
        fail(offset,
             fmt::format("{} field is not an octal number: '{}'", what, field_text(f, width)));
    return v;
  }

  static std::string header_name(const std::array<char, kTarBlock>& h) {
    std::string name = field_text(h.data(), 100);
    // POSIX ustar: a non-empty prefix field goes in front. GNU's "ustar  "
    // headers use those bytes for other things.
    if (std::memcmp(h.data() + 257, "ustar\0", 6) == 0) {
      const std::string prefix = field_text(h.data() + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    return name;
  }

  std::string read_text(uint64_t data, uint64_t size, uint64_t offset) const {
    if (size > kMaxExtendedHeaderBytes)
      fail(offset, fmt::format("extended header of {} bytes (at most {} accepted)", size,
                               kMaxExtendedHeaderBytes));
    std::string text(size, '\0');
    if (read_(data, size, text.data()) != size) fail(offset, "cannot read extended header");
    text.resize(strnlen(text.data(), text.size()));  // GNU long names are NUL-terminated
    return text;
  }

  // "LEN KEY=VALUE\n" records; LEN counts the whole record.
  void read_pax(uint64_t data, uint64_t size, uint64_t offset) {
    std::string text(size, '\0');
    if (size > kMaxExtendedHeaderBytes)
      fail(offset, fmt::format("pax header of {} bytes (at most {} accepted)", size,
                               kMaxExtendedHeaderBytes));
    if (read_(data, size, text.data()) != size) fail(offset, "cannot read pax header");
    size_t pos = 0;
    while (pos < text.size()) {
      if (text[pos] == '\0') break;  // padding
      size_t digits_end = pos;
      uint64_t length = 0;
      while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9' &&
             length < text.size()) {
        length = length * 10 + static_cast<uint64_t>(text[digits_end] - '0');
        ++digits_end;
      }
      if (digits_end == pos || digits_end >= text.size() || text[digits_end] != ' ' ||
          length <= digits_end - pos + 1 || length > text.size() - pos ||
          text[pos + length - 1] != '\n')
        fail(offset, fmt::format("malformed pax record at byte {} of the pax header", pos));
      const std::string record = text.substr(digits_end + 1, pos + length - 1 - digits_end - 1);
      const size_t eq = record.find('=');
      if (eq == std::string::npos)
        fail(offset, fmt::format("pax record without '=' at byte {} of the pax header", pos));
      const std::string key = record.substr(0, eq), value = record.substr(eq + 1);
      if (key == "path") {
        pending_name_ = value;
      } else if (key == "size") {
        uint64_t v = 0;
        if (value.empty() || value.size() > 19 ||
            value.find_first_not_of("0123456789") != std::string::npos)
          fail(offset, fmt::format("pax size '{}' is not a number", value));
        for (char c : value)
          v = v * 10 + static_cast<uint64_t>(c - '0');
        pending_size_ = v;
      }
      pos += length;
    }
  }

  const ReadAt& read_;
  uint64_t total_;
  const std::string& name_;
  std::optional<std::string> pending_name_;
  std::optional<uint64_t> pending_size_;
};

}  // namespace

TarScan scan_tar(const ReadAt& read, uint64_t total_size, const std::string& name) {
  return HeaderParser(read, total_size, name).scan();
}

ReadAt read_at_fd(int fd) {
  return [fd](uint64_t offset, size_t size, char* out) -> size_t {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  };
}

TarScan scan_tar_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw DataError(fmt::format("{}: not a regular file", path));
  }
  const ReadAt read = read_at_fd(fd);
  try {
    TarScan scan = scan_tar(read, static_cast<uint64_t>(st.st_size), path);
    ::close(fd);
    return scan;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

}  // namespace scenery::data
