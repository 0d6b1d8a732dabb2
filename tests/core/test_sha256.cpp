#include "core/sha256.h"

#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"

namespace scenery {
namespace {

TEST(Sha256, MatchesFipsTestVectors) {
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FileDigestEqualsBufferDigest) {
  testing::TempDir dir;
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 31 % 251);
  testing::write_text(dir / "f.bin", big);
  EXPECT_EQ(sha256_file(dir / "f.bin"), sha256_hex(big.data(), big.size()));
}

}  // namespace
}  // namespace scenery
