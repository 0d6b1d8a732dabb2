// The size an image file declares in its header, read without decoding it.
//
// Why: a decoder allocates what the header declares before it reads a single
// pixel, so a few-kB file declaring 65000x65000 pixels (a "decompression
// bomb") costs 12 GB before anything can fail. Reading the header first lets
// every decoder refuse such a file with a clear error instead of letting the
// kernel kill the process (data/decode.h, data.max_image_pixels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace scenery::data {

// Pillow's Image.MAX_IMAGE_PIXELS: the size it considers a possible bomb.
constexpr int64_t kDefaultMaxImagePixels = 89'478'485;

struct DeclaredSize {
  std::string format;  // "JPEG", "PNG", "BMP", "WebP", "TIFF", "PNM"
  int64_t width = 0, height = 0;
  int64_t pixels() const { return width * height; }
};

// The format and declared size of an encoded image, from its first bytes.
// std::nullopt: not a format recognised here (the caller decides whether to
// decode it anyway). A recognised format whose header is cut short or
// malformed throws DataError naming `name` and what was expected.
std::optional<DeclaredSize> read_declared_size(const uint8_t* data, size_t size,
                                               const std::string& name);

}  // namespace scenery::data
