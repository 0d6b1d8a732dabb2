#include "data/image_header.h"

#include <fmt/core.h>

#include <cstring>
#include <limits>

#include "core/error.h"

namespace scenery::data {
namespace {

// Bounds-checked reads of the header bytes; running past the end means the
// file is cut short inside its own header.
class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n, const std::string& name, const char* format)
      : d_(d), n_(n), name_(name), format_(format) {}
  size_t size() const { return n_; }
  void need(size_t end) const { need(0, end); }
  // `count` bytes at `at`; written so that a huge offset read from the file
  // (a BigTIFF IFD offset near 2^64) cannot wrap around the check.
  void need(size_t at, size_t count) const {
    if (at > n_ || count > n_ - at)
      throw DataError(fmt::format("{}: truncated {} header ({} bytes, expected {} at byte {})",
                                  name_, format_, n_, count, at));
  }
  uint8_t u8(size_t at) const {
    need(at, 1);
    return d_[at];
  }
  uint64_t le(size_t at, int bytes) const {
    need(at, static_cast<size_t>(bytes));
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
      v = (v << 8) | d_[at + static_cast<size_t>(i)];
    return v;
  }
  uint64_t be(size_t at, int bytes) const {
    need(at, static_cast<size_t>(bytes));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v = (v << 8) | d_[at + static_cast<size_t>(i)];
    return v;
  }
  bool starts_with(const char* magic, size_t at = 0) const {
    const size_t len = std::strlen(magic);
    return at + len <= n_ && std::memcmp(d_ + at, magic, len) == 0;
  }
  [[noreturn]] void malformed(const std::string& what) const {
    throw DataError(fmt::format("{}: malformed {} header: {}", name_, format_, what));
  }

 private:
  const uint8_t* d_;
  size_t n_;
  const std::string& name_;
  const char* format_;
};

DeclaredSize declared(const char* format, uint64_t width, uint64_t height) {
  // Clamped so that pixels() cannot overflow; anything this large is refused anyway.
  constexpr uint64_t kMax = uint64_t{1} << 31;
  return {format, static_cast<int64_t>(width < kMax ? width : kMax),
          static_cast<int64_t>(height < kMax ? height : kMax)};
}

// Walks the marker segments to the first frame header (SOF0..SOF15 but DHT,
// JPG and DAC, which share the range). Bytes between segments are skipped as
// libjpeg skips them (with a warning), so whatever libjpeg would decode is
// sized here.
DeclaredSize jpeg_size(const Bytes& b) {
  size_t p = 2;
  while (true) {
    while (p < b.size() && b.u8(p) != 0xFF)
      ++p;
    while (p < b.size() && b.u8(p) == 0xFF)
      ++p;  // fill bytes
    if (p >= b.size()) b.malformed("no frame header (SOF marker) before the end of the file");
    const uint8_t marker = b.u8(p);
    ++p;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
    if (marker == 0xD9 || marker == 0xDA)
      b.malformed("no frame header (SOF marker) before the first scan");
    const size_t length = b.be(p, 2);
    if (length < 2) b.malformed(fmt::format("segment length {} below 2", length));
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      const uint64_t height = b.be(p + 3, 2), width = b.be(p + 5, 2);
      if (height == 0 || width == 0)
        b.malformed(
            fmt::format("frame size {}x{} (a zero height needs a DNL marker, which "
                        "libjpeg does not support)",
                        width, height));
      return declared("JPEG", width, height);
    }
    p += length;
  }
}

DeclaredSize png_size(const Bytes& b) {
  b.need(24);
  if (!b.starts_with("IHDR", 12)) b.malformed("the first chunk is not IHDR");
  return declared("PNG", b.be(16, 4), b.be(20, 4));
}

DeclaredSize bmp_size(const Bytes& b) {
  const uint64_t dib = b.le(14, 4);
  if (dib == 12) return declared("BMP", b.le(18, 2), b.le(20, 2));  // OS/2 BITMAPCOREHEADER
  if (dib < 16) b.malformed(fmt::format("info header of {} bytes", dib));
  const auto width = static_cast<int32_t>(b.le(18, 4));
  const auto height = static_cast<int32_t>(b.le(22, 4));  // negative: rows top-down
  const auto magnitude = [](int32_t v) { return static_cast<uint64_t>(v < 0 ? -int64_t{v} : v); };
  return declared("BMP", magnitude(width), magnitude(height));
}

DeclaredSize webp_size(const Bytes& b) {
  if (b.starts_with("VP8X", 12)) return declared("WebP", b.le(24, 3) + 1, b.le(27, 3) + 1);
  if (b.starts_with("VP8L", 12)) {
    if (b.u8(20) != 0x2F) b.malformed("lossless stream without its 0x2F signature");
    const uint64_t bits = b.le(21, 4);
    return declared("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (b.starts_with("VP8 ", 12)) {
    if (b.u8(23) != 0x9D || b.u8(24) != 0x01 || b.u8(25) != 0x2A)
      b.malformed("lossy frame without its start code");
    return declared("WebP", b.le(26, 2) & 0x3FFF, b.le(28, 2) & 0x3FFF);
  }
  b.malformed("the first chunk is none of VP8, VP8L, VP8X");
}

// The first image file directory's ImageWidth (256) and ImageLength (257):
// what OpenCV decodes of a multi-page file.
DeclaredSize tiff_size(const Bytes& b, bool big) {
  const bool little = b.u8(0) == 'I';
  auto read = [&](size_t at, int bytes) { return little ? b.le(at, bytes) : b.be(at, bytes); };
  const uint64_t ifd = big ? read(8, 8) : read(4, 4);
  const uint64_t entries = big ? read(ifd, 8) : read(ifd, 2);
  const size_t first = ifd + (big ? 8 : 2), entry_size = big ? 20 : 12;
  uint64_t width = 0, height = 0;
  for (uint64_t e = 0; e < entries && (width == 0 || height == 0); ++e) {
    const size_t at = first + e * entry_size;
    const uint64_t tag = read(at, 2), type = read(at + 2, 2);
    if (tag != 256 && tag != 257) continue;
    const size_t value = at + (big ? 12 : 8);
    uint64_t v = 0;
    if (type == 3)
      v = read(value, 2);  // SHORT
    else if (type == 4)
      v = read(value, 4);  // LONG
    else if (type == 16 && big)
      v = read(value, 8);  // LONG8
    else
      b.malformed(fmt::format("tag {} of field type {}", tag, type));
    (tag == 256 ? width : height) = v;
  }
  if (width == 0 || height == 0) b.malformed("no ImageWidth/ImageLength in the first directory");
  return declared("TIFF", width, height);
}

// P1..P6: magic, then width and height as decimal tokens, '#' comments between.
DeclaredSize pnm_size(const Bytes& b) {
  size_t p = 2;
  uint64_t values[2] = {0, 0};
  for (uint64_t& v : values) {
    while (true) {
      const uint8_t c = b.u8(p);
      if (c == '#') {
        while (b.u8(p) != '\n' && b.u8(p) != '\r')
          ++p;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++p;
      } else {
        break;
      }
    }
    if (b.u8(p) < '0' || b.u8(p) > '9') b.malformed("width/height is not a decimal number");
    while (p < b.size() && b.u8(p) >= '0' && b.u8(p) <= '9') {
      v = v * 10 + (b.u8(p) - '0');
      if (v > (uint64_t{1} << 40)) v = uint64_t{1} << 40;  // saturate: refused anyway
      ++p;
    }
  }
  return declared("PNM", values[0], values[1]);
}

}  // namespace

std::optional<DeclaredSize> read_declared_size(const uint8_t* data, size_t size,
                                               const std::string& name) {
  const auto make = [&](const char* format) { return Bytes(data, size, name, format); };
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return jpeg_size(make("JPEG"));
  if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return png_size(make("PNG"));
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return bmp_size(make("BMP"));
  if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0)
    return webp_size(make("WebP"));
  if (size >= 4 && (std::memcmp(data, "II*\0", 4) == 0 || std::memcmp(data, "MM\0*", 4) == 0))
    return tiff_size(make("TIFF"), false);
  if (size >= 4 && (std::memcmp(data, "II+\0", 4) == 0 || std::memcmp(data, "MM\0+", 4) == 0))
    return tiff_size(make("TIFF"), true);
  if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6') return pnm_size(make("PNM"));
  return std::nullopt;
}

}  // namespace scenery::data
