#include "data/decode.h"

#include <fmt/core.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <system_error>

#include "core/error.h"

namespace scenery::data {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& reason) {
  throw DataError(fmt::format("{}: {}", name, reason));
}

std::vector<uint8_t> read_bytes(const fs::path& file) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) fail(file.string(), "missing (no such file)");
  if (!fs::is_regular_file(status)) fail(file.string(), "not a regular file");
  const auto size = fs::file_size(file, ec);
  if (ec) fail(file.string(), "cannot read size: " + ec.message());
  if (size == 0) fail(file.string(), "empty file (0 bytes)");
  std::vector<uint8_t> bytes(size);
  std::ifstream in(file, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    fail(file.string(), "cannot read (permission or I/O error)");
  return bytes;
}

bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// libjpeg "decodes" a truncated file by padding it with grey and only prints a
// warning, so OpenCV returns a plausible but wrong image. Entropy-coded data
// byte-stuffs 0xFF, so markers are unambiguous: the last start-of-scan (FFDA)
// must be followed by an end-of-image (FFD9) marker.
bool jpeg_has_end_marker(const std::vector<uint8_t>& b) {
  size_t last_sos = 0;
  for (size_t i = b.size() - 1; i > 0; --i) {
    if (b[i - 1] == 0xFF && b[i] == 0xDA) {
      last_sos = i;
      break;
    }
  }
  if (last_sos == 0) return false;
  for (size_t i = last_sos + 1; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
  return false;
}

// IMREAD_UNCHANGED keeps depth and alpha; the conversion happens here, where
// each case is explicit.
cv::Mat decode_unchanged(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (is_jpeg(bytes) && !jpeg_has_end_marker(bytes))
    fail(name, "truncated or corrupt JPEG (no end-of-image marker after the last scan)");
  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::_InputArray(bytes.data(), static_cast<int>(bytes.size())),
                       cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    fail(name, std::string("corrupt image: ") + e.what());
  }
  if (raw.empty()) fail(name, "not a decodable image (unknown format, corrupt or truncated)");
  return raw;
}

cv::Mat to_8bit(const cv::Mat& m, const std::string& name) {
  switch (m.depth()) {
    case CV_8U:
      return m;
    case CV_16U: {
      cv::Mat out;  // full 16-bit range onto 0..255, rounded
      m.convertTo(out, CV_8U, 255.0 / 65535.0);
      return out;
    }
    default:
      fail(name, fmt::format("unsupported sample depth (OpenCV depth {})", m.depth()));
  }
}

}  // namespace

cv::Mat decode_rgb_bytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  cv::Mat m = to_8bit(decode_unchanged(bytes, name), name);
  cv::Mat rgb;
  switch (m.channels()) {
    case 1:
      cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 2: {  // grey + alpha: keep grey, drop alpha
      cv::Mat grey;
      cv::extractChannel(m, grey, 0);
      cv::cvtColor(grey, rgb, cv::COLOR_GRAY2RGB);
      break;
    }
    case 3:  // OpenCV hands out BGR (CMYK JPEGs and palette PNGs included)
      cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:  // BGRA: alpha is dropped, not blended (as PIL's convert("RGB"))
      cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGB);
      break;
    default:
      fail(name, fmt::format("unsupported channel count {}", m.channels()));
  }
  return rgb;
}

cv::Mat decode_rgb(const fs::path& file) {
  return decode_rgb_bytes(read_bytes(file), file.string());
}

cv::Mat decode_label_png(const fs::path& file) {
  const auto bytes = read_bytes(file);
  cv::Mat m = decode_unchanged(bytes, file.string());
  if (m.type() != CV_8UC1)
    fail(file.string(),
         fmt::format("expected an 8-bit single-channel label PNG, got {} channel(s) of depth {}",
                     m.channels(), m.depth() == CV_8U ? "8-bit" : "non-8-bit"));
  return m;
}

cv::Mat decode_raw3_png(const fs::path& file) {
  const auto bytes = read_bytes(file);
  cv::Mat m = decode_unchanged(bytes, file.string());
  if (m.type() != CV_8UC3)
    fail(file.string(),
         fmt::format("expected an 8-bit 3-channel semantic PNG, got {} channel(s) of depth {}",
                     m.channels(), m.depth() == CV_8U ? "8-bit" : "non-8-bit"));
  cv::Mat rgb;  // back to file order: R = rank 1, G = rank 2, B = rank 3
  cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace scenery::data
