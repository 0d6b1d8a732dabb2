#include "data/image_header.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "data_test_helpers.h"

namespace scenery::data {
namespace {
using namespace scenery::data::testing;

std::optional<DeclaredSize> size_of(const std::vector<uint8_t>& b) {
  return read_declared_size(b.data(), b.size(), "img");
}

// The truth is the encoder's: OpenCV writes each file from a 37x23 image.
TEST(ImageHeader, ReadsTheSizeOfEveryFormatOpenCvWrites) {
  struct Case {
    const char* ext;
    std::vector<int> params;
    int type;
    const char* format;
  };
  const std::vector<Case> cases = {
      {".jpg", {}, CV_8UC3, "JPEG"},
      {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, CV_8UC3, "JPEG"},
      {".jpg", {}, CV_8UC1, "JPEG"},
      {".png", {}, CV_8UC3, "PNG"},
      {".png", {}, CV_16UC1, "PNG"},
      {".png", {}, CV_8UC4, "PNG"},
      {".bmp", {}, CV_8UC3, "BMP"},
      {".webp", {cv::IMWRITE_WEBP_QUALITY, 80}, CV_8UC3, "WebP"},
      {".webp", {cv::IMWRITE_WEBP_QUALITY, 101}, CV_8UC3, "WebP"},  // lossless (VP8L)
      {".webp", {cv::IMWRITE_WEBP_QUALITY, 80}, CV_8UC4, "WebP"},   // with alpha (VP8X)
      {".tiff", {}, CV_8UC3, "TIFF"},
      {".ppm", {}, CV_8UC3, "PNM"},
      {".pgm", {cv::IMWRITE_PXM_BINARY, 0}, CV_8UC1, "PNM"},  // ASCII P2
  };
  for (const Case& c : cases) {
    cv::Mat image(23, 37, c.type);
    cv::randu(image, 0, 255);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(c.ext, image, bytes, c.params)) << c.ext;
    const auto declared = size_of(bytes);
    ASSERT_TRUE(declared.has_value()) << c.ext;
    EXPECT_EQ(declared->format, c.format) << c.ext;
    EXPECT_EQ(declared->width, 37) << c.ext << " " << declared->format;
    EXPECT_EQ(declared->height, 23) << c.ext << " " << declared->format;
    EXPECT_EQ(declared->pixels(), 37 * 23);
  }
}

// Hand-written headers for what OpenCV does not write: a big-endian TIFF with
// LONG fields, a top-down BMP (negative height), an OS/2 BMP, a PNM comment.
TEST(ImageHeader, ReadsBigEndianTiffTopDownAndOs2BmpAndPnmComments) {
  std::vector<uint8_t> tiff = {
      'M', 'M', 0, 42, 0, 0, 0, 8,                          // header, IFD at 8
      0,   2,                                               // two entries
      1,   0,   0, 4,  0, 0, 0, 1, 0,    1,    0x11, 0x70,  // width LONG 70000
      1,   1,   0, 3,  0, 0, 0, 1, 0x30, 0x39, 0,    0,     // height SHORT 12345
      0,   0,   0, 0};
  auto t = size_of(tiff);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->width, 70000);
  EXPECT_EQ(t->height, 12345);

  std::vector<uint8_t> bmp(54, 0);
  bmp[0] = 'B', bmp[1] = 'M', bmp[14] = 40;
  const int32_t w = 640, h = -480;  // rows stored top-down
  std::memcpy(&bmp[18], &w, 4);
  std::memcpy(&bmp[22], &h, 4);
  auto b = size_of(bmp);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->width, 640);
  EXPECT_EQ(b->height, 480);

  std::vector<uint8_t> os2(26, 0);
  os2[0] = 'B', os2[1] = 'M', os2[14] = 12, os2[18] = 0x20, os2[19] = 0x03, os2[20] = 0x58,
  os2[21] = 0x02;
  auto o = size_of(os2);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->width, 800);
  EXPECT_EQ(o->height, 600);

  const std::string pnm = "P6\n# made by hand\n  1920 # width\n1080\n255\n";
  auto p = size_of(std::vector<uint8_t>(pnm.begin(), pnm.end()));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->width, 1920);
  EXPECT_EQ(p->height, 1080);
}

// Found by fuzz_image_header: a BigTIFF whose first-directory offset is
// 2^64 - 1 made the bounds check (offset + 8 <= size) wrap around and the
// reader load past the buffer. Now a truncated-header error naming the offset.
TEST(ImageHeader, ABigTiffDirectoryOffsetNearTwoToThe64IsRefusedNotReadOutOfBounds) {
  std::vector<uint8_t> bytes = {'I', 'I', 0x2b, 0x00, 'R', 'I', 'F', 'F'};
  bytes.resize(64, 0xff);  // the directory offset (bytes 8..15) and all after: 0xff
  try {
    read_declared_size(bytes.data(), bytes.size(), "fuzz.tif");
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fuzz.tif: truncated TIFF header"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("at byte 18446744073709551615"), std::string::npos)
        << e.what();
  }
}

TEST(ImageHeader, BombsDeclareWhatTheirHeaderSays) {
  auto j = size_of(jpeg_bomb(65000, 65000));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->pixels(), int64_t{65000} * 65000);
  auto p = size_of(png_bomb(100000, 200000));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->width, 100000);
  EXPECT_EQ(p->height, 200000);
}

TEST(ImageHeader, CutShortHeadersAreDataErrorsNamingTheFileUnknownBytesAreNotRecognised) {
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp", ".tiff", ".ppm"}) {
    std::vector<uint8_t> bytes = encoded_noise(ext);
    bytes.resize(ext == std::string(".ppm") ? 3 : 14);
    try {
      read_declared_size(bytes.data(), bytes.size(), "cut/short.img");
      ADD_FAILURE() << ext << ": expected DataError";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("cut/short.img"), std::string::npos) << e.what();
    }
  }
  const std::string text = "just some notes, not an image";
  EXPECT_FALSE(size_of(std::vector<uint8_t>(text.begin(), text.end())));
  EXPECT_FALSE(size_of({}));
}

}  // namespace
}  // namespace scenery::data
