// fuzz_image_header: the declared size of an encoded image (JPEG, PNG, BMP,
// WebP, TIFF, PNM headers) read before any pixel is allocated: the
// decompression-bomb check every decoder calls first.
#include <cstdint>

#include "core/error.h"
#include "data/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    scenery::data::read_declared_size(data, size, "fuzz");
  } catch (const scenery::DataError&) {
  }
  return 0;
}
