#include "observe/crc32c.h"

#include <gtest/gtest.h>

#include <string>

#include "observe/record_file.h"

namespace scenery::observe {
namespace {

std::string bytes_from(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

// RFC 3720 (iSCSI), appendix B.4, and the customary "123456789" check value.
TEST(Crc32c, MatchesThePublishedTestVectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

// TensorFlow's mask: rotate right by 15 bits, add 0xa282ead8 (mod 2^32).
TEST(Crc32c, MaskIsTensorFlowsRotateAndAdd) {
  EXPECT_EQ(masked_crc32c(""), 0xA282EAD8u);
  // crc32c("123456789") = 0xE3069283: rotr15 = 0x2507C60D, + 0xA282EAD8 = 0xC78AB0E5.
  EXPECT_EQ(masked_crc32c("123456789"), 0xC78AB0E5u);
}

TEST(RecordFile, FramesLengthCrcDataCrc) {
  const std::string data = "abc";
  const std::string framed = frame_record(data);
  ASSERT_EQ(framed.size(), 8u + 4u + 3u + 4u);
  EXPECT_EQ(framed.substr(0, 8), bytes_from({3, 0, 0, 0, 0, 0, 0, 0}));  // little-endian
  const auto u32_at = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
      v = (v << 8) | static_cast<unsigned char>(framed[at + i]);
    return v;
  };
  EXPECT_EQ(u32_at(8), masked_crc32c(framed.substr(0, 8)));
  EXPECT_EQ(framed.substr(12, 3), data);
  EXPECT_EQ(u32_at(15), masked_crc32c(data));
}

}  // namespace
}  // namespace scenery::observe
