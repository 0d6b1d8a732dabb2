#include "data/decode.h"

#include <fmt/core.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <fstream>
#include <system_error>

#include "core/error.h"
#include "data/sample_bytes.h"

namespace scenery::data {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& reason) {
  throw DataError(fmt::format("{}: {}", name, reason));
}

bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// libjpeg "decodes" a truncated file by padding it with grey and only prints a
// warning, so OpenCV returns a plausible but wrong image. Entropy-coded data
// byte-stuffs 0xFF, so markers are unambiguous: the last start-of-scan (FFDA)
// must be followed by an end-of-image (FFD9) marker.
bool jpeg_has_end_marker(const std::vector<uint8_t>& b) {
  // Fast path: almost every file ends with the marker itself.
  if (b.size() >= 2 && b[b.size() - 2] == 0xFF && b[b.size() - 1] == 0xD9) return true;
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

// Direct libjpeg(-turbo) decoding of ordinary colour JPEGs straight to RGB.
// Why not cv::imdecode: Debian's OpenCV 4.6 asks libjpeg for RGB and swaps it
// to BGR in a scalar loop (a third of the loader's time in profiles), which
// decode_rgb then swapped back. Same library, same defaults (ISLOW IDCT, fancy
// upsampling) as OpenCV and PIL, so the pixels are identical to both.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_error_exit(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegError*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}
// Warnings (e.g. extraneous bytes) are tolerated as PIL and OpenCV do;
// truncation is caught by jpeg_has_end_marker().
void jpeg_silent(j_common_ptr) {}

enum class JpegResult { kOk, kError, kNotRgb };

// Only POD state lives in this frame, so longjmp skips no destructor; the
// output Mat belongs to the caller.
JpegResult decode_jpeg_rgb(const std::vector<uint8_t>& bytes, JpegError* err, cv::Mat* out) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_error_exit;
  err->mgr.output_message = jpeg_silent;
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return JpegResult::kError;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 3 ||
      (cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_RGB)) {
    jpeg_destroy_decompress(&cinfo);
    return JpegResult::kNotRgb;  // greyscale, CMYK, YCCK: the general path below
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width), CV_8UC3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->ptr<uint8_t>(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return JpegResult::kOk;
}

// Region decoding in two phases, each arming its own setjmp (libjpeg errors
// longjmp back into whichever phase is running), so the caller can choose the
// region from the header's size in between. Only POD state lives in these
// frames.
JpegResult read_jpeg_header(jpeg_decompress_struct* cinfo, const std::vector<uint8_t>& bytes,
                            JpegError* err) {
  cinfo->err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_error_exit;
  err->mgr.output_message = jpeg_silent;
  if (setjmp(err->jump)) return JpegResult::kError;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->num_components != 3 ||
      (cinfo->jpeg_color_space != JCS_YCbCr && cinfo->jpeg_color_space != JCS_RGB))
    return JpegResult::kNotRgb;
  return JpegResult::kOk;
}

// Decodes rows and iMCU columns covering `want` plus a margin into `out`,
// whose top-left pixel is `origin` in the full image. The margin keeps the
// chroma upsampler's neighbours inside what is decoded, so the pixels of
// `want` equal a full decode's (tested); rows below the region are never
// decoded and rows above are only entropy-decoded (jpeg_skip_scanlines).
JpegResult decode_jpeg_region(jpeg_decompress_struct* cinfo, JpegError* err, cv::Rect want,
                              cv::Mat* out, cv::Point* origin) {
  if (setjmp(err->jump)) return JpegResult::kError;
  constexpr int kMargin = 16;  // one iMCU of 4:2:0 data
  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress(cinfo);
  const int W = static_cast<int>(cinfo->output_width), H = static_cast<int>(cinfo->output_height);
  const int x0 = std::max(0, want.x - kMargin), x1 = std::min(W, want.x + want.width + kMargin);
  const int y0 = std::max(0, want.y - kMargin), y1 = std::min(H, want.y + want.height + kMargin);
  JDIMENSION xoffset = static_cast<JDIMENSION>(x0), width = static_cast<JDIMENSION>(x1 - x0);
  if (x0 > 0 || x1 < W) jpeg_crop_scanline(cinfo, &xoffset, &width);  // widened to iMCUs
  if (y0 > 0) jpeg_skip_scanlines(cinfo, static_cast<JDIMENSION>(y0));
  out->create(y1 - y0, static_cast<int>(cinfo->output_width), CV_8UC3);
  while (static_cast<int>(cinfo->output_scanline) < y1) {
    JSAMPROW row = out->ptr<uint8_t>(static_cast<int>(cinfo->output_scanline) - y0);
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  *origin = {static_cast<int>(xoffset), y0};
  return JpegResult::kOk;  // the caller aborts the rest (jpeg_destroy_decompress)
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

void check_declared_size(const std::vector<uint8_t>& bytes, const std::string& name,
                         int64_t max_pixels) {
  if (max_pixels <= 0) return;
  const auto declared = read_declared_size(bytes.data(), bytes.size(), name);
  if (!declared)
    fail(name,
         "not a decodable image: its first bytes are none of JPEG, PNG, BMP, WebP, TIFF, PNM "
         "(the formats whose size is checked before decoding; data.max_image_pixels = 0 lets "
         "OpenCV try any format)");
  if (declared->pixels() > max_pixels)
    fail(name, fmt::format("{} header declares {}x{} = {} pixels, above data.max_image_pixels = "
                           "{} (a decompression bomb?); refused before decoding (raise the "
                           "option, or 0 for no limit, to accept it)",
                           declared->format, declared->width, declared->height, declared->pixels(),
                           max_pixels));
}

namespace {

// decode_rgb_bytes once the declared size has been checked (decode_rgb_region
// checks before choosing its path and must not read the header twice).
cv::Mat decode_checked_rgb(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (is_jpeg(bytes)) {
    if (!jpeg_has_end_marker(bytes))
      fail(name, "truncated or corrupt JPEG (no end-of-image marker after the last scan)");
    JpegError err;
    cv::Mat rgb;
    switch (decode_jpeg_rgb(bytes, &err, &rgb)) {
      case JpegResult::kOk:
        return rgb;
      case JpegResult::kError:
        fail(name, std::string("corrupt JPEG: ") + err.message);
      case JpegResult::kNotRgb:
        break;
    }
  }
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

}  // namespace

cv::Mat decode_rgb_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                         int64_t max_pixels) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  check_declared_size(bytes, name, max_pixels);
  return decode_checked_rgb(bytes, name);
}

cv::Mat decode_rgb(const fs::path& file, int64_t max_pixels) {
  return decode_rgb_bytes(read_file_bytes(file, max_pixels), file.string(), max_pixels);
}

PartialImage decode_rgb_region(const fs::path& file,
                               const std::function<cv::Rect(cv::Size)>& choose,
                               int64_t max_pixels) {
  return decode_rgb_region_bytes(read_file_bytes(file, max_pixels), file.string(), choose,
                                 max_pixels);
}

PartialImage decode_rgb_region_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                                     const std::function<cv::Rect(cv::Size)>& choose,
                                     int64_t max_pixels) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  check_declared_size(bytes, name, max_pixels);
  if (is_jpeg(bytes)) {
    if (!jpeg_has_end_marker(bytes))
      fail(name, "truncated or corrupt JPEG (no end-of-image marker after the last scan)");
    JpegError err;
    jpeg_decompress_struct cinfo;
    const JpegResult header = read_jpeg_header(&cinfo, bytes, &err);
    if (header == JpegResult::kOk) {
      PartialImage part;
      part.full = {static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height)};
      cv::Rect want;
      try {
        want = choose(part.full);
      } catch (...) {
        jpeg_destroy_decompress(&cinfo);
        throw;
      }
      if ((want & cv::Rect({0, 0}, part.full)) != want) {
        jpeg_destroy_decompress(&cinfo);
        fail(name, fmt::format("region {}x{}+{}+{} outside the {}x{} image", want.width,
                               want.height, want.x, want.y, part.full.width, part.full.height));
      }
      const JpegResult r = decode_jpeg_region(&cinfo, &err, want, &part.pixels, &part.origin);
      jpeg_destroy_decompress(&cinfo);
      if (r == JpegResult::kError) fail(name, std::string("corrupt JPEG: ") + err.message);
      return part;
    }
    jpeg_destroy_decompress(&cinfo);
    if (header == JpegResult::kError) fail(name, std::string("corrupt JPEG: ") + err.message);
  }
  PartialImage whole;
  whole.pixels = decode_checked_rgb(bytes, name);  // empty input was refused above
  whole.full = whole.pixels.size();
  choose(whole.full);
  return whole;
}

cv::Mat decode_label_png(const fs::path& file, int64_t max_pixels) {
  return decode_label_png_bytes(read_file_bytes(file, max_pixels), file.string(), max_pixels);
}

cv::Mat decode_label_png_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                               int64_t max_pixels) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  check_declared_size(bytes, name, max_pixels);
  cv::Mat m = decode_unchanged(bytes, name);
  if (m.type() != CV_8UC1)
    fail(name,
         fmt::format("expected an 8-bit single-channel label PNG, got {} channel(s) of depth {}",
                     m.channels(), m.depth() == CV_8U ? "8-bit" : "non-8-bit"));
  return m;
}

cv::Mat decode_raw3_png(const fs::path& file, int64_t max_pixels) {
  return decode_raw3_png_bytes(read_file_bytes(file, max_pixels), file.string(), max_pixels);
}

cv::Mat decode_raw3_png_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                              int64_t max_pixels) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  check_declared_size(bytes, name, max_pixels);
  cv::Mat m = decode_unchanged(bytes, name);
  if (m.type() != CV_8UC3)
    fail(name,
         fmt::format("expected an 8-bit 3-channel semantic PNG, got {} channel(s) of depth {}",
                     m.channels(), m.depth() == CV_8U ? "8-bit" : "non-8-bit"));
  cv::Mat rgb;  // back to file order: R = rank 1, G = rank 2, B = rank 3
  cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat decode_sample_rgb(const Sample& sample, int64_t max_pixels) {
  return decode_rgb_bytes(read_sample_bytes(sample, SampleFile::kImage, max_pixels),
                          sample.image.string(), max_pixels);
}

cv::Mat decode_sample_mask(const Sample& sample, int64_t max_pixels) {
  return decode_label_png_bytes(read_sample_bytes(sample, SampleFile::kMask, max_pixels),
                                sample.mask.string(), max_pixels);
}

}  // namespace scenery::data
