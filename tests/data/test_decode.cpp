#include "data/decode.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <jpeglib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;

// 4x2 palette PNG (PIL, bit depth 2): palette red, green, blue, (10,20,30);
// pixels 0 1 2 3 / 3 2 1 0.
const std::vector<uint8_t> kPalettePng = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x02, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc6, 0x95,
    0xf0, 0x00, 0x00, 0x00, 0x0c, 0x50, 0x4c, 0x54, 0x45, 0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00,
    0x00, 0xff, 0x0a, 0x14, 0x1e, 0x22, 0x88, 0x29, 0x04, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41,
    0x54, 0x78, 0xda, 0x63, 0x90, 0x66, 0x78, 0x02, 0x00, 0x01, 0x39, 0x01, 0x00, 0x7b, 0x99, 0x42,
    0x37, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

// 8x8 Adobe CMYK JPEG written by PIL from CMYK (0,255,255,0); PIL reads it as RGB (255,0,0).
const std::vector<uint8_t> kCmykJpeg = {
    0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08,
    0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00,
    0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4,
    0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00,
    0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13,
    0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15,
    0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86,
    0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4,
    0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2,
    0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9,
    0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5,
    0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00,
    0x4b, 0x00, 0x00, 0x3f, 0x00, 0xfe, 0xfe, 0x2b, 0xfc, 0xff, 0x00, 0xeb, 0xfc, 0xff, 0x00, 0xeb,
    0xfb, 0xf8, 0xaf, 0xff, 0xd9};

void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
cv::Vec3b px(const cv::Mat& m, int x, int y) {
  return m.at<cv::Vec3b>(y, x);
}

// Expects DataError whose message names `file` and contains `reason`.
template <class F>
void expect_data_error(F&& f, const fs::path& file, const std::string& reason) {
  try {
    f();
    FAIL() << "expected DataError for " << file;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg;
  }
}

// A BGR test card OpenCV writes; decoding must hand it back as RGB.
cv::Mat bgr_card() {
  cv::Mat m(16, 16, CV_8UC3, cv::Scalar(0, 0, 0));
  m(cv::Rect(0, 0, 8, 16)).setTo(cv::Scalar(0, 0, 255));  // red (BGR order)
  m(cv::Rect(8, 0, 8, 16)).setTo(cv::Scalar(255, 0, 0));  // blue
  return m;
}

TEST(DecodeRgb, PngComesOutRgbOrderExactly) {
  TempDir dir;
  cv::imwrite((dir / "a.png").string(), bgr_card());
  const cv::Mat m = decode_rgb(dir / "a.png");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(px(m, 0, 0), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(px(m, 15, 15), cv::Vec3b(0, 0, 255));
}

TEST(DecodeRgb, JpegComesOutRgbOrder) {
  TempDir dir;
  cv::imwrite((dir / "a.jpg").string(), bgr_card(), {cv::IMWRITE_JPEG_QUALITY, 100});
  const cv::Mat m = decode_rgb(dir / "a.jpg");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_GT(px(m, 2, 8)[0], 240);  // red in channel 0
  EXPECT_LT(px(m, 2, 8)[2], 15);
  EXPECT_GT(px(m, 13, 8)[2], 240);
}

TEST(DecodeRgb, DirectJpegPathGivesExactlyOpenCvsPixels) {
  TempDir dir;
  cv::Mat noise(67, 91, CV_8UC3);  // odd sizes: partial MCUs and chroma upsampling edges
  cv::randu(noise, 0, 255);
  for (int quality : {50, 95}) {
    cv::imwrite((dir / "n.jpg").string(), noise, {cv::IMWRITE_JPEG_QUALITY, quality});
    cv::Mat reference;
    cv::cvtColor(cv::imread((dir / "n.jpg").string(), cv::IMREAD_COLOR), reference,
                 cv::COLOR_BGR2RGB);
    EXPECT_EQ(cv::norm(decode_rgb(dir / "n.jpg"), reference, cv::NORM_INF), 0) << quality;
  }
}

TEST(DecodeRgb, GreyscaleJpegTakesTheGeneralPath) {
  TempDir dir;
  cv::imwrite((dir / "g.jpg").string(), cv::Mat(8, 8, CV_8UC1, cv::Scalar(90)));
  const cv::Mat m = decode_rgb(dir / "g.jpg");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_NEAR(px(m, 4, 4)[0], 90, 1);
  EXPECT_EQ(px(m, 4, 4)[0], px(m, 4, 4)[2]);
}

TEST(DecodeRgb, GrayscaleIsReplicatedIntoThreeChannels) {
  TempDir dir;
  cv::Mat g(4, 4, CV_8UC1, cv::Scalar(77));
  cv::imwrite((dir / "g.png").string(), g);
  const cv::Mat m = decode_rgb(dir / "g.png");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(px(m, 1, 1), cv::Vec3b(77, 77, 77));
}

TEST(DecodeRgb, AlphaIsDroppedNotBlended) {
  TempDir dir;
  cv::Mat bgra(4, 4, CV_8UC4, cv::Scalar(10, 20, 30, 0));  // fully transparent
  cv::imwrite((dir / "a.png").string(), bgra);
  const cv::Mat m = decode_rgb(dir / "a.png");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(px(m, 0, 0), cv::Vec3b(30, 20, 10));
}

TEST(DecodeRgb, SixteenBitPngIsScaledToEightBitsWithRounding) {
  TempDir dir;
  cv::Mat m16(2, 2, CV_16UC3);
  m16.at<cv::Vec3w>(0, 0) = {65535, 0, 257 * 100};  // B G R
  m16.at<cv::Vec3w>(0, 1) = {128, 32767, 257 * 200 + 128};
  m16.at<cv::Vec3w>(1, 0) = m16.at<cv::Vec3w>(1, 1) = {0, 0, 0};
  cv::imwrite((dir / "w.png").string(), m16);
  const cv::Mat m = decode_rgb(dir / "w.png");
  ASSERT_EQ(m.type(), CV_8UC3);
  EXPECT_EQ(px(m, 0, 0), cv::Vec3b(100, 0, 255));
  // 200.498 -> 200, 32767 * 255 / 65535 = 127.498 -> 127, 128 * 255/65535 = 0.498 -> 0
  EXPECT_EQ(px(m, 1, 0), cv::Vec3b(200, 127, 0));
}

TEST(DecodeRgb, PalettePngIsExpandedThroughItsPalette) {
  TempDir dir;
  write_bytes(dir / "p.png", kPalettePng);
  const cv::Mat m = decode_rgb(dir / "p.png");
  ASSERT_EQ(m.type(), CV_8UC3);
  ASSERT_EQ(m.size(), cv::Size(4, 2));
  EXPECT_EQ(px(m, 0, 0), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(px(m, 1, 0), cv::Vec3b(0, 255, 0));
  EXPECT_EQ(px(m, 2, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(px(m, 3, 0), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(px(m, 0, 1), cv::Vec3b(10, 20, 30));
}

TEST(DecodeRgb, CmykJpegMatchesPil) {
  TempDir dir;
  write_bytes(dir / "c.jpg", kCmykJpeg);
  const cv::Mat m = decode_rgb(dir / "c.jpg");
  ASSERT_EQ(m.type(), CV_8UC3);
  const cv::Vec3b p = px(m, 3, 3);
  EXPECT_NEAR(p[0], 255, 2);
  EXPECT_NEAR(p[1], 0, 2);
  EXPECT_NEAR(p[2], 0, 2);
}

// Writes an RGB image as a JPEG with the given luma sampling factors (2x2 =
// 4:2:0, 2x1 = 4:2:2, 1x1 = 4:4:4) through libjpeg itself: OpenCV 4.6 cannot
// choose them.
void write_jpeg(const fs::path& file, const cv::Mat& rgb, int h, int v, bool progressive) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  FILE* out = std::fopen(file.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  jpeg_stdio_dest(&cinfo, out);
  cinfo.image_width = static_cast<JDIMENSION>(rgb.cols);
  cinfo.image_height = static_cast<JDIMENSION>(rgb.rows);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 85, TRUE);
  cinfo.comp_info[0].h_samp_factor = h;
  cinfo.comp_info[0].v_samp_factor = v;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(rgb.ptr<uint8_t>(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(out);
}

TEST(DecodeRgbRegion, JpegRegionsHoldExactlyTheFullDecodesPixels) {
  TempDir dir;
  cv::Mat img(251, 333, CV_8UC3);  // odd sizes: partial iMCUs on both edges
  cv::randu(img, 0, 255);
  cv::GaussianBlur(img, img, {0, 0}, 2.0);  // photo-like, so chroma upsampling matters
  cv::RNG rng(7);
  struct Encoding {
    const char* name;
    int h, v;
    bool progressive;
  };
  const Encoding encodings[] = {{"4:2:0", 2, 2, false},
                                {"4:2:2", 2, 1, false},
                                {"4:4:4", 1, 1, false},
                                {"4:2:0 progressive", 2, 2, true},
                                {"4:4:0", 1, 2, false}};
  for (const auto& e : encodings) {
    const fs::path file = dir / "img.jpg";
    write_jpeg(file, img, e.h, e.v, e.progressive);
    const cv::Mat full = decode_rgb(file);
    for (int trial = 0; trial < 60; ++trial) {
      // Random boxes, plus ones touching every edge and the whole image.
      cv::Rect want;
      if (trial == 0) {
        want = {0, 0, full.cols, full.rows};
      } else if (trial < 5) {
        const int w = rng.uniform(1, 60), h = rng.uniform(1, 60);
        want = {trial % 2 ? 0 : full.cols - w, trial < 3 ? 0 : full.rows - h, w, h};
      } else {
        const int w = rng.uniform(1, full.cols + 1), h = rng.uniform(1, full.rows + 1);
        want = {rng.uniform(0, full.cols - w + 1), rng.uniform(0, full.rows - h + 1), w, h};
      }
      const auto part = decode_rgb_region(file, [&](cv::Size size) {
        EXPECT_EQ(size, full.size());
        return want;
      });
      EXPECT_EQ(part.full, full.size());
      ASSERT_EQ(cv::norm(part.region(want), full(want), cv::NORM_INF), 0)
          << e.name << " region " << want;
      // Less than the whole image is decoded when the box is small.
      if (want.area() * 4 < full.size().area()) {
        EXPECT_LT(part.pixels.total(), full.total());
      }
    }
  }
}

TEST(DecodeRgbRegion, OtherFormatsAndBadFilesBehaveAsDecodeRgb) {
  TempDir dir;
  cv::Mat img(40, 50, CV_8UC3);
  cv::randu(img, 0, 255);
  cv::imwrite((dir / "a.png").string(), img);
  const auto part = decode_rgb_region(
      dir / "a.png", [](cv::Size s) { return cv::Rect(5, 5, s.width - 10, s.height - 10); });
  EXPECT_EQ(part.origin, cv::Point(0, 0));
  EXPECT_EQ(cv::norm(part.pixels, decode_rgb(dir / "a.png"), cv::NORM_INF), 0);
  cv::imwrite((dir / "full.jpg").string(), img);
  auto bytes = read_bytes(dir / "full.jpg");
  bytes.resize(bytes.size() / 2);
  write_bytes(dir / "half.jpg", bytes);
  auto whole = [](cv::Size s) { return cv::Rect({0, 0}, s); };
  expect_data_error([&] { decode_rgb_region(dir / "half.jpg", whole); }, dir / "half.jpg",
                    "truncated");
  expect_data_error([&] { decode_rgb_region(dir / "gone.jpg", whole); }, dir / "gone.jpg",
                    "missing");
  expect_data_error(
      [&] { decode_rgb_region(dir / "full.jpg", [](cv::Size) { return cv::Rect(0, 0, 99, 9); }); },
      dir / "full.jpg", "outside");
}

TEST(DecodeRgb, TruncatedJpegIsADataErrorNamingTheFile) {
  TempDir dir;
  cv::Mat noise(64, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  cv::imwrite((dir / "full.jpg").string(), noise);
  auto bytes = read_bytes(dir / "full.jpg");
  bytes.resize(bytes.size() / 2);
  write_bytes(dir / "half.jpg", bytes);
  expect_data_error([&] { decode_rgb(dir / "half.jpg"); }, dir / "half.jpg", "truncated");
}

TEST(DecodeRgb, TruncatedPngIsADataError) {
  TempDir dir;
  cv::Mat noise(64, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  cv::imwrite((dir / "full.png").string(), noise);
  auto bytes = read_bytes(dir / "full.png");
  bytes.resize(bytes.size() / 2);
  write_bytes(dir / "half.png", bytes);
  expect_data_error([&] { decode_rgb(dir / "half.png"); }, dir / "half.png", "");
}

TEST(DecodeRgb, CorruptMiddleOfJpegIsADataErrorOrAnImageNeverACrash) {
  TempDir dir;
  cv::Mat noise(64, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  cv::imwrite((dir / "full.jpg").string(), noise);
  auto bytes = read_bytes(dir / "full.jpg");
  for (size_t i = 20; i < 200 && i < bytes.size(); ++i)
    bytes[i] = 0x00;  // smash headers
  write_bytes(dir / "bad.jpg", bytes);
  expect_data_error([&] { decode_rgb(dir / "bad.jpg"); }, dir / "bad.jpg", "");
}

TEST(DecodeRgb, EmptyMissingTextAndDirectoryAreDataErrorsWithReasons) {
  TempDir dir;
  write_bytes(dir / "empty.jpg", {});
  scenery::testing::write_text(dir / "notes.jpg", "this is not an image\n");
  fs::create_directories(dir / "folder.jpg");
  expect_data_error([&] { decode_rgb(dir / "empty.jpg"); }, dir / "empty.jpg", "empty");
  expect_data_error([&] { decode_rgb(dir / "gone.jpg"); }, dir / "gone.jpg", "missing");
  expect_data_error([&] { decode_rgb(dir / "notes.jpg"); }, dir / "notes.jpg", "not a decodable");
  expect_data_error([&] { decode_rgb(dir / "folder.jpg"); }, dir / "folder.jpg", "not a regular");
}

TEST(DecodeLabelPng, KeepsRawValues) {
  TempDir dir;
  cv::Mat labels(2, 3, CV_8UC1);
  const uint8_t values[] = {0, 1, 150, 151, 200, 255};
  for (int i = 0; i < 6; ++i)
    labels.at<uint8_t>(i / 3, i % 3) = values[i];
  cv::imwrite((dir / "l.png").string(), labels);
  const cv::Mat m = decode_label_png(dir / "l.png");
  ASSERT_EQ(m.type(), CV_8UC1);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(m.at<uint8_t>(i / 3, i % 3), values[i]);
}

TEST(DecodeLabelPng, RejectsColourAnnotationsNamingTheFile) {
  TempDir dir;
  cv::imwrite((dir / "rgb.png").string(), bgr_card());
  expect_data_error([&] { decode_label_png(dir / "rgb.png"); }, dir / "rgb.png", "single-channel");
  expect_data_error([&] { decode_label_png(dir / "gone.png"); }, dir / "gone.png", "missing");
}

TEST(DecodeRaw3Png, KeepsFileChannelOrder) {
  TempDir dir;
  cv::Mat bgr(1, 1, CV_8UC3, cv::Scalar(3, 2, 1));  // file holds R=1 G=2 B=3
  cv::imwrite((dir / "s.png").string(), bgr);
  const cv::Mat m = decode_raw3_png(dir / "s.png");
  EXPECT_EQ(px(m, 0, 0), cv::Vec3b(1, 2, 3));
}

}  // namespace
}  // namespace scenery::data
