#include "data/pil_resample.h"

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <random>

#include "core/error.h"
#include "data/decode.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;

bool have_pillow() {
  static const int ok =
      scenery::testing::run_command("/usr/bin/python3 -c 'import PIL' 2>/dev/null").exit_code == 0;
  return ok;
}

cv::Mat noise_image(int w, int h, unsigned seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}

// Turns the portable path on or off for one scope.
struct SimdScope {
  bool before;
  explicit SimdScope(bool on) : before(set_pil_simd(on)) {}
  ~SimdScope() { set_pil_simd(before); }
};

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// One resize case: the `crop` of the image, resized to `out`, of which `roi` is kept.
struct Case {
  const char* name;
  cv::Rect crop;
  cv::Size out;
  cv::Rect roi;  // empty: all of it
};

// Pillow itself (Debian's python3-pil, what torchvision 0.14 resizes with) on
// the same PNG: img.crop(box).resize(out, BILINEAR).crop(roi), bit for bit.
TEST(PilResize, EqualsPillowBitForBit) {
  if (!have_pillow()) GTEST_SKIP() << "/usr/bin/python3 without PIL";
  TempDir dir;
  // Noise plus edges: every rounding decision shows up somewhere.
  cv::Mat rgb = noise_image(500, 375, 7);
  cv::rectangle(rgb, {40, 30}, {300, 200}, cv::Scalar(250, 10, 128), cv::FILLED);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::imwrite((dir / "img.png").string(), bgr);
  const std::vector<Case> cases = {
      {"enlarge", {37, 21, 150, 170}, {224, 224}, {}},
      {"mild_shrink", {3, 4, 250, 240}, {224, 224}, {}},
      {"antialiased_shrink", {10, 5, 420, 350}, {224, 224}, {}},
      {"eval_resize_center_crop", {0, 0, 500, 375}, {341, 256}, {58, 16, 224, 224}},
      {"strong_shrink", {0, 0, 500, 375}, {7, 5}, {}},
      {"odd_aspect", {0, 0, 500, 375}, {100, 37}, {}},
      {"one_pixel_source", {9, 9, 1, 1}, {5, 3}, {}},
      {"to_one_pixel", {9, 9, 3, 2}, {1, 1}, {}},
      {"same_size", {100, 100, 224, 224}, {224, 224}, {}},
      {"width_only", {0, 10, 300, 224}, {224, 224}, {}},
      {"right_and_bottom_edges", {276, 151, 224, 224}, {257, 199}, {}},
  };
  std::string script =
      "import sys\nfrom PIL import Image\nd = sys.argv[1]\n"
      "img = Image.open(d + '/img.png').convert('RGB')\n";
  for (const Case& c : cases) {
    const cv::Rect roi = c.roi.empty() ? cv::Rect({0, 0}, c.out) : c.roi;
    script += fmt::format(
        "img.crop(({}, {}, {}, {})).resize(({}, {}), Image.BILINEAR)"
        ".crop(({}, {}, {}, {})).save(d + '/{}.png')\n",
        c.crop.x, c.crop.y, c.crop.x + c.crop.width, c.crop.y + c.crop.height, c.out.width,
        c.out.height, roi.x, roi.y, roi.x + roi.width, roi.y + roi.height, c.name);
  }
  scenery::testing::write_text(dir / "ref.py", script);
  const auto r = scenery::testing::run_command("/usr/bin/python3 " + (dir / "ref.py").string() +
                                               " " + dir.path().string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat decoded = decode_rgb(dir / "img.png");
  for (const bool simd : {true, false}) {
    SimdScope scope(simd);
    for (const Case& c : cases) {
      const cv::Mat want = decode_rgb(dir / (std::string(c.name) + ".png"));
      const cv::Mat got = pil_resize(decoded(c.crop), c.out, c.roi);
      EXPECT_TRUE(same_pixels(got, want)) << c.name << (simd ? " (AVX2)" : " (portable)");
    }
  }
}

// The AVX2 and portable kernels on many random geometries of a noise image:
// identical bytes, and identical normalised floats in both layouts, mirrored or not.
TEST(PilResize, Avx2AndPortablePathsAgreeEverywhere) {
  const cv::Mat img = noise_image(331, 257, 3);
  std::mt19937 gen(11);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  for (int trial = 0; trial < 150; ++trial) {
    const int w = uniform(1, img.cols), h = uniform(1, img.rows);
    const cv::Rect crop(uniform(0, img.cols - w), uniform(0, img.rows - h), w, h);
    const cv::Size out(uniform(1, 400), uniform(1, 300));
    const cv::Rect roi = trial % 3 ? cv::Rect() : cv::Rect(0, 0, out.width / 2 + 1, out.height);
    const bool mirror = trial % 2 == 1, channels_last = trial % 4 >= 2;
    const cv::Size got_size = roi.empty() ? out : roi.size();
    cv::Mat bytes[2];
    std::vector<float> floats[2];
    for (int simd = 0; simd < 2; ++simd) {
      SimdScope scope(simd == 1);
      bytes[simd] = pil_resize(img(crop), out, roi);
      floats[simd].assign(3 * got_size.area(), -99.0f);
      pil_resize_normalize_into(img(crop), out, roi, {}, floats[simd].data(), channels_last,
                                mirror);
    }
    const std::string what = fmt::format("{}x{}+{}+{} -> {}x{}, trial {}", w, h, crop.x, crop.y,
                                         out.width, out.height, trial);
    ASSERT_TRUE(same_pixels(bytes[0], bytes[1])) << what;
    ASSERT_EQ(floats[0], floats[1]) << what;
  }
}

// The fused path is normalize_into() of the resized image, bit for bit, in
// both layouts and mirrored (which the fused path does by reversing taps).
TEST(PilResize, FusedNormalizeEqualsResizeThenNormalize) {
  const cv::Mat img = noise_image(256, 256, 5);
  const cv::Rect crop(20, 31, 181, 150);
  for (const bool simd : {true, false})
    for (const bool channels_last : {false, true})
      for (const bool mirror : {false, true}) {
        SimdScope scope(simd);
        const cv::Mat resized = pil_resize(img(crop), {224, 224});
        for (const NormalizeParams& p :
             {NormalizeParams{}, NormalizeParams{{0.5f, 0.25f, 0.1f}, {0.3f, 0.7f, 0.11f}}}) {
          std::vector<float> want(3 * 224 * 224), got(3 * 224 * 224);
          normalize_into(resized, p, want.data(), channels_last, mirror);
          pil_resize_normalize_into(img(crop), {224, 224}, {}, p, got.data(), channels_last,
                                    mirror);
          EXPECT_EQ(got, want) << "simd " << simd << " channels_last " << channels_last
                               << " mirror " << mirror << " mean " << p.mean[0];
        }
      }
}

TEST(PilResize, RejectsWhatItCannotResize) {
  const cv::Mat img = noise_image(10, 10, 1);
  EXPECT_THROW(pil_resize(cv::Mat(10, 10, CV_8UC1, cv::Scalar(0)), {5, 5}), DataError);
  EXPECT_THROW(pil_resize(img, {0, 5}), DataError);
  EXPECT_THROW(pil_resize(img, {5, 5}, {2, 2, 4, 4}), DataError);
  try {
    pil_resize(img, {5, 5}, {2, 2, 4, 4});
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("4x4+2+2 outside 5x5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scenery::data
