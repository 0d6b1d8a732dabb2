// CRC-32C (Castagnoli), the checksum of TFRecord framing, and the "masked"
// form TensorFlow stores so that a CRC of data that itself holds CRCs stays
// well distributed.
#pragma once

#include <cstdint>
#include <string_view>

namespace scenery::observe {

uint32_t crc32c(std::string_view bytes);
// ((crc >> 15) | (crc << 17)) + 0xa282ead8, as TensorFlow's crc32c::Mask.
uint32_t masked_crc32c(std::string_view bytes);

}  // namespace scenery::observe
