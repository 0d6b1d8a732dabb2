#include "eval/zip_writer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace scenery::eval {
namespace {

TEST(ZipWriter, Crc32MatchesTheStandardCheckValue) {
  const char* check = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(check), std::strlen(check)), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
}

}  // namespace
}  // namespace scenery::eval
