#include "observe/crc32c.h"

#include <boost/crc.hpp>

namespace scenery::observe {

uint32_t crc32c(std::string_view bytes) {
  // Castagnoli's polynomial, reflected in and out, all-ones initial value and final XOR.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

uint32_t masked_crc32c(std::string_view bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace scenery::observe
