// Decompression bombs and oversized files: refused before anything is
// allocated for them, by every decoder, the loader and `scenery-data check`,
// with messages naming the file, the declared size and the option.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "data/data_options.h"
#include "data/dataset_check.h"
#include "data/decode.h"
#include "data/loader.h"
#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::own_peak_rss_kb;
using scenery::testing::run_command_measured;
using scenery::testing::TempDir;
using scenery::testing::tool_path;
using namespace scenery::data::testing;

// A 65000x65000 RGB image is 12.7 GB: a decoder that trusted the header would
// exceed any of these bounds by far.
constexpr int64_t kPeakRssBoundKb = 400 * 1024;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected DataError";
  return "";
}

void expect_bomb_message(const std::string& message, const fs::path& file) {
  EXPECT_CONTAINS(message, file.string());
  EXPECT_CONTAINS(message, "65000x65000");
  EXPECT_CONTAINS(message, "data.max_image_pixels = 89478485");
}

TEST(DecodeLimits, BombsAreRefusedByEveryDecoderBeforeAllocating) {
  TempDir dir;
  const fs::path jpeg = dir / "bomb.jpg", png = dir / "bomb.png";
  write_file(jpeg, jpeg_bomb(65000, 65000));
  write_file(png, png_bomb(65000, 65000));
  for (const fs::path& file : {jpeg, png}) {
    expect_bomb_message(error_of([&] { decode_rgb(file); }), file);
    expect_bomb_message(
        error_of([&] { decode_rgb_region(file, [](cv::Size) { return cv::Rect(0, 0, 8, 8); }); }),
        file);
  }
  expect_bomb_message(error_of([&] { decode_label_png(png); }), png);
  expect_bomb_message(error_of([&] { decode_raw3_png(png); }), png);
  EXPECT_LT(own_peak_rss_kb(), kPeakRssBoundKb);
}

TEST(DecodeLimits, TheLimitIsInclusiveAndZeroMeansNone) {
  TempDir dir;
  cv::Mat image(40, 50, CV_8UC3, cv::Scalar(1, 2, 3));
  const fs::path file = dir / "a.png";
  cv::imwrite(file.string(), image);
  EXPECT_EQ(decode_rgb(file, 2000).size(), cv::Size(50, 40));
  EXPECT_EQ(decode_rgb(file, 0).size(), cv::Size(50, 40));
  const std::string message = error_of([&] { decode_rgb(file, 1999); });
  EXPECT_CONTAINS(message, "50x40 = 2000 pixels, above data.max_image_pixels = 1999");
}

// Without a readable header there is no size to check: with a limit such
// files are refused, naming the formats that are checked.
TEST(DecodeLimits, FormatsWithoutACheckedHeaderAreRefusedUnderALimit) {
  TempDir dir;
  const fs::path file = dir / "image.ras";  // Sun raster: OpenCV reads it, we do not size it
  cv::Mat image(8, 8, CV_8UC3, cv::Scalar(9, 9, 9));
  ASSERT_TRUE(cv::imwrite(file.string(), image));
  const std::string message = error_of([&] { decode_rgb(file); });
  EXPECT_CONTAINS(message, file.string());
  EXPECT_CONTAINS(message, "JPEG, PNG, BMP, WebP, TIFF, PNM");
  EXPECT_EQ(decode_rgb(file, 0).size(), cv::Size(8, 8));
}

// A sparse 100 MB file costs no disk; with a 1000-pixel limit no image could
// be that large, so it is not read into memory at all.
TEST(DecodeLimits, FilesLargerThanAnyImageWithinTheLimitAreNotRead) {
  TempDir dir;
  const fs::path file = dir / "huge.jpg";
  write_file(file, encoded_noise(".jpg"));
  fs::resize_file(file, 100u << 20);
  const std::string message = error_of([&] { decode_rgb(file, 1000); });
  EXPECT_CONTAINS(message, file.string());
  EXPECT_CONTAINS(message, "file of 104857600 bytes is larger than any image");
}

// The report of `scenery-data check` names each bomb as corrupt with the
// decoder's reason, and the whole process stays small.
TEST(DecodeLimits, CheckReportsBombsAsCorruptAndItsPeakMemoryStaysSmall) {
  TempDir dir;
  make_synth("places365", dir.path(), 2, 4, 3, 48);
  const Catalog c = open_catalog(spec("places365", dir.path(), "train"));
  ASSERT_GE(c.size(), 3u);
  write_file(c.at(0).image, jpeg_bomb(65000, 65000));
  write_file(c.at(2).image, png_bomb(65000, 65000));  // PNG bytes in a .jpg: sniffed, not named
  const auto r = run_command_measured(tool_path("scenery-data") +
                                      " check --data.dataset places365 --data.split train "
                                      "--data.root " +
                                      dir.path().string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "missing: 0, corrupt: 2");
  for (size_t i : {0u, 2u}) {
    EXPECT_CONTAINS(r.output, c.at(i).image.string() + ": corrupt (");
    expect_bomb_message(r.output, c.at(i).image);
  }
  std::printf("scenery-data check with two 65000x65000 bombs: peak RSS %lld kB\n",
              static_cast<long long>(r.peak_rss_kb));
  EXPECT_LT(r.peak_rss_kb, kPeakRssBoundKb) << "peak RSS " << r.peak_rss_kb << " kB";
}

// In training the loader skips bombs with a warning that names the file and
// the reason; the process's memory stays bounded.
TEST(DecodeLimits, LoaderSkipsBombsNamingFileAndReasonWithBoundedMemory) {
  TempDir dir;
  Catalog catalog("test", "train", fs::path());
  for (int i = 0; i < 12; ++i) {
    const fs::path file = dir / ("img_" + std::to_string(i) + ".jpg");
    if (i == 3)
      write_file(file, jpeg_bomb(65000, 65000));
    else if (i == 8)
      write_file(file, png_bomb(65000, 65000));
    else
      write_file(file, encoded_noise(".jpg"));
    catalog.add(file.string(), i % 3);
  }
  for (LoaderMode mode : {LoaderMode::kTrain, LoaderMode::kEval}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = 2;
    o.mode = mode;
    o.train.crop.size = 16;
    o.eval = {16, 16};
    Loader loader(catalog, o);
    ::testing::internal::CaptureStderr();
    loader.start_epoch(0);
    int64_t seen = 0;
    while (auto b = loader.next())
      seen += b->size();
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(seen, 10);
    EXPECT_EQ(loader.skipped_this_epoch(), 2);
    for (int i : {3, 8}) {
      const std::string file = catalog.at(static_cast<size_t>(i)).image.string();
      EXPECT_CONTAINS(log, file);
      expect_bomb_message(log, file);
    }
  }
  std::printf("loader (train and eval passes) with two bombs: peak RSS %lld kB\n",
              static_cast<long long>(own_peak_rss_kb()));
  EXPECT_LT(own_peak_rss_kb(), kPeakRssBoundKb);
}

TEST(DecodeLimits, TheOptionIsReadAndValidated) {
  Config c("test", "loader options");
  add_data_options(c);
  c.parse({"--data.max_image_pixels", "1000"});
  EXPECT_EQ(loader_options_from_config(c, true).max_image_pixels, 1000);
  Config bad("test", "loader options");
  add_data_options(bad);
  try {
    bad.parse({"--data.max_image_pixels", "-1"});
    loader_options_from_config(bad, true);
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(std::string(e.what()), "data.max_image_pixels");
    EXPECT_CONTAINS(std::string(e.what()), "-1");
  }
}

}  // namespace
}  // namespace scenery::data
