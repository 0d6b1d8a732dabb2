#include "data/transforms.h"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "core/error.h"
#include "data/decode.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;

TEST(RoundHalfEven, MatchesPythonRound) {
  EXPECT_EQ(round_half_even(0.5), 0);
  EXPECT_EQ(round_half_even(1.5), 2);
  EXPECT_EQ(round_half_even(2.5), 2);
  EXPECT_EQ(round_half_even(58.5), 58);
  EXPECT_EQ(round_half_even(2.6), 3);
}

TEST(Resize, ShorterSideWithTorchvisionTruncation) {
  EXPECT_EQ(resized_size({500, 375}, 256), cv::Size(341, 256));  // 256*500/375 = 341.33
  EXPECT_EQ(resized_size({375, 500}, 256), cv::Size(256, 341));
  EXPECT_EQ(resized_size({256, 256}, 256), cv::Size(256, 256));
  EXPECT_EQ(resized_size({300, 299}, 256), cv::Size(256, 256));  // 256*300/299 = 256.86 -> 256
}

TEST(CenterCrop, OffsetsRoundHalvesToEven) {
  EXPECT_EQ(center_crop_box({341, 256}, 224), (CropBox{58, 16, 224, 224}));  // 58.5 -> 58
  EXPECT_EQ(center_crop_box({343, 256}, 224), (CropBox{60, 16, 224, 224}));  // 59.5 -> 60
  EXPECT_THROW(center_crop_box({200, 256}, 224), DataError);
}

TEST(FiveCrop, TorchvisionOrderCornersThenCentre) {
  const auto b = five_crop_boxes({300, 256}, 224);
  EXPECT_EQ(b[0], (CropBox{0, 0, 224, 224}));
  EXPECT_EQ(b[1], (CropBox{76, 0, 224, 224}));
  EXPECT_EQ(b[2], (CropBox{0, 32, 224, 224}));
  EXPECT_EQ(b[3], (CropBox{76, 32, 224, 224}));
  EXPECT_EQ(b[4], (CropBox{38, 16, 224, 224}));
}

TEST(RandomResizedCrop, BoxesStayInsideAndRespectScaleAndRatio) {
  RandomResizedCropParams p;
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const cv::Size im(256 + i % 200, 256 + (i * 7) % 150);
    const CropBox b = random_resized_crop_box(im, p, rng);
    ASSERT_GE(b.x, 0);
    ASSERT_GE(b.y, 0);
    ASSERT_LE(b.x + b.width, im.width);
    ASSERT_LE(b.y + b.height, im.height);
    const double area = double(b.width) * b.height / (double(im.width) * im.height);
    // Rounding of w and h moves the area and ratio by a pixel's worth at most.
    ASSERT_GE(area, 0.08 * 0.9);
    ASSERT_LE(area, 1.0);
    const double ratio = double(b.width) / b.height;
    ASSERT_GE(ratio, 0.75 * 0.93);
    ASSERT_LE(ratio, 4.0 / 3.0 / 0.93);
  }
}

TEST(RandomResizedCrop, FallbackIsTheRatioClampedCentralCrop) {
  RandomResizedCropParams p;
  p.scale_min = 2.0;  // no attempt can fit: always the fallback
  p.scale_max = 3.0;
  Rng rng(1);
  EXPECT_EQ(random_resized_crop_box({1000, 100}, p, rng),
            (CropBox{433, 0, 133, 100}));  // (1000 - 133) // 2
  EXPECT_EQ(random_resized_crop_box({100, 1000}, p, rng), (CropBox{0, 433, 100, 133}))
      << "w/h = 0.1 < 3/4: w = 100, h = round(100 / 0.75) = 133";
  EXPECT_EQ(random_resized_crop_box({300, 250}, p, rng), (CropBox{0, 0, 300, 250}));
}

TEST(RandomResizedCrop, SameStreamSameBoxes) {
  RandomResizedCropParams p;
  Rng a = Rng::for_sample(3, 1, 42), b = Rng::for_sample(3, 1, 42), c = Rng::for_sample(3, 2, 42);
  const auto ba = random_resized_crop_box({256, 256}, p, a);
  EXPECT_EQ(ba, random_resized_crop_box({256, 256}, p, b));
  EXPECT_FALSE(ba == random_resized_crop_box({256, 256}, p, c));
}

TEST(Normalize, HandComputedValuesAndLayouts) {
  cv::Mat img(1, 2, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {255, 0, 128};
  img.at<cv::Vec3b>(0, 1) = {0, 51, 255};
  NormalizeParams p;
  float chw[6], hwc[6], mirrored[6];
  normalize_into(img, p, chw, false);
  normalize_into(img, p, hwc, true);
  normalize_into(img, p, mirrored, false, true);
  EXPECT_FLOAT_EQ(chw[0], (1.0f - 0.485f) / 0.229f);             // R of pixel 0
  EXPECT_FLOAT_EQ(chw[1], (0.0f - 0.485f) / 0.229f);             // R of pixel 1
  EXPECT_FLOAT_EQ(chw[3], (0.2f - 0.456f) / 0.224f);             // G of pixel 1
  EXPECT_FLOAT_EQ(chw[4], (128.0f / 255.0f - 0.406f) / 0.225f);  // B of pixel 0
  EXPECT_FLOAT_EQ(hwc[1], chw[2]);                               // G of pixel 0
  EXPECT_FLOAT_EQ(hwc[5], chw[5]);
  EXPECT_FLOAT_EQ(mirrored[0], chw[1]);
  EXPECT_FLOAT_EQ(mirrored[5], chw[4]);
  const auto t = to_normalized_tensor(img, p, true);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_TRUE(t.is_contiguous(torch::MemoryFormat::ChannelsLast) || t.stride(0) == 1);
  EXPECT_FLOAT_EQ(t[2][0][0].item<float>(), chw[4]);
}

TEST(Normalize, RejectsNonRgb) {
  cv::Mat g(2, 2, CV_8UC1, cv::Scalar(0));
  float out[4];
  EXPECT_THROW(normalize_into(g, {}, out), DataError);
}

// An image whose colour encodes a label: 24x24-pixel blocks of label value
// (x/24 + 5*(y/24)) % 7 + 1, drawn as grey level label * 30.
Views block_pattern(int w, int h) {
  Views v;
  v.mask.create(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      v.mask.at<uint8_t>(y, x) = uint8_t((x / 24 + 5 * (y / 24)) % 7 + 1);
  cv::Mat grey;
  v.mask.convertTo(grey, CV_8U, 30);
  cv::cvtColor(grey, v.image, cv::COLOR_GRAY2RGB);
  cv::merge(std::vector<cv::Mat>{v.mask, v.mask, v.mask}, v.sem_classes);
  cv::merge(std::vector<cv::Mat>{grey, grey, grey}, v.sem_scores);
  return v;
}

// Pixel-wise alignment: wherever the mask is locally constant (a 5x5
// neighbourhood of one label), the image must show exactly that label's grey
// level, and the semantic maps must carry the same label.
void expect_aligned(const Views& o) {
  ASSERT_EQ(o.image.size(), o.mask.size());
  int checked = 0;
  for (int y = 2; y < o.mask.rows - 2; ++y)
    for (int x = 2; x < o.mask.cols - 2; ++x) {
      const uint8_t l = o.mask.at<uint8_t>(y, x);
      bool uniform = true;
      for (int dy = -2; dy <= 2 && uniform; ++dy)
        for (int dx = -2; dx <= 2 && uniform; ++dx)
          uniform = o.mask.at<uint8_t>(y + dy, x + dx) == l;
      if (!uniform) continue;
      ++checked;
      ASSERT_NEAR(o.image.at<cv::Vec3b>(y, x)[0], l * 30, 1) << "at " << x << "," << y;
      ASSERT_EQ(o.sem_classes.at<cv::Vec3b>(y, x)[1], l);
      ASSERT_EQ(o.sem_scores.at<cv::Vec3b>(y, x)[2], l * 30);
    }
  EXPECT_GT(checked, 0);  // a zoomed-out crop still has 24/256*112 > 5 px blocks
}

TEST(JointTransforms, TrainGeometryKeepsImageMaskAndSemanticMapsAligned) {
  const Views in = block_pattern(320, 240);
  TrainTransformParams p;
  p.crop.size = 112;
  for (uint64_t i = 0; i < 40; ++i) {
    Rng rng = Rng::for_sample(9, 0, i);
    const Views o = train_transform(in, p, rng);
    ASSERT_EQ(o.image.size(), cv::Size(112, 112));
    expect_aligned(o);
  }
}

TEST(JointTransforms, FlipMirrorsEveryView) {
  const Views in = block_pattern(64, 64);
  TrainGeometry g;
  g.box = {0, 0, 64, 64};
  g.flip = true;
  const Views o = apply_train_geometry(in, g, 64);
  for (int x = 0; x < 64; ++x) {
    EXPECT_EQ(o.mask.at<uint8_t>(3, x), in.mask.at<uint8_t>(3, 63 - x));
    EXPECT_EQ(o.image.at<cv::Vec3b>(3, x), in.image.at<cv::Vec3b>(3, 63 - x));
  }
}

TEST(JointTransforms, EvalGeometryKeepsImageAndMaskAligned) {
  const Views in = block_pattern(500, 375);
  const Views o = eval_transform(in, {});
  ASSERT_EQ(o.image.size(), cv::Size(224, 224));
  expect_aligned(o);
}

TEST(JointTransforms, MismatchedMaskSizeIsADataError) {
  Views in = block_pattern(64, 64);
  in.mask = cv::Mat(32, 32, CV_8UC1, cv::Scalar(0));
  EXPECT_THROW(eval_transform(in, {}), DataError);
}

TEST(TenCrop, FiveCropsThenTheFiveCropsOfTheMirrorImage) {
  cv::Mat img(256, 300, CV_8UC3);
  cv::randu(img, 0, 255);
  const auto crops = ten_crop(img, {256, 224});  // 300x256: Resize(256) is the identity
  const auto boxes = five_crop_boxes({300, 256}, 224);
  const cv::Mat mirror = hflip(img);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(cv::norm(crops[i], img(boxes[i].rect()), cv::NORM_INF), 0) << i;
    EXPECT_EQ(cv::norm(crops[i + 5], mirror(boxes[i].rect()), cv::NORM_INF), 0) << i;
  }
  // The mirror's top-left crop is the original's top-right crop, flipped.
  EXPECT_EQ(cv::norm(crops[5], hflip(img(boxes[1].rect())), cv::NORM_INF), 0);
}

TEST(ColorJitter, IdentityFactorsChangeNothingAndBrightnessScales) {
  cv::Mat img(4, 4, CV_8UC3, cv::Scalar(100, 50, 200));
  cv::Mat same = img.clone();
  apply_jitter(same, {});
  EXPECT_EQ(cv::norm(same, img, cv::NORM_INF), 0);
  cv::Mat bright = img.clone();
  apply_jitter(bright, {1.5, 1, 1});
  EXPECT_EQ(bright.at<cv::Vec3b>(0, 0), cv::Vec3b(150, 75, 255));  // saturates
}

// torchvision.ColorJitter's draws: each factor in its range, hue in [-h, h],
// and the order a uniform permutation of the four operations.
TEST(ColorJitter, FactorsLieInTheirRangesAndOrdersArePermutationsOfAllFour) {
  const ColorJitterParams p{0.4, 0.2, 1.5, 0.1};
  std::set<std::array<int, 4>> orders;
  for (uint64_t i = 0; i < 2000; ++i) {
    Rng rng = Rng::for_sample(3, 0, i);
    const auto f = sample_jitter(p, rng);
    EXPECT_GE(f.brightness, 0.6);
    EXPECT_LE(f.brightness, 1.4);
    EXPECT_GE(f.contrast, 0.8);
    EXPECT_LE(f.contrast, 1.2);
    EXPECT_GE(f.saturation, 0.0);  // max(0, 1 - 1.5)
    EXPECT_LE(f.saturation, 2.5);
    EXPECT_GE(f.hue, -0.1);
    EXPECT_LE(f.hue, 0.1);
    auto sorted = f.order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::array<int, 4>{0, 1, 2, 3}));
    orders.insert(f.order);
  }
  EXPECT_EQ(orders.size(), 24u);  // every order occurs
}

// RandomResizedCrop with user ranges: every box drawn (not the fallback)
// respects the area fraction and aspect ratio asked for, up to rounding.
TEST(RandomResizedCrop, BoxesRespectTheScaleAndRatioRanges) {
  RandomResizedCropParams p;
  p.scale_min = 0.35, p.scale_max = 0.6, p.ratio_min = 0.5, p.ratio_max = 0.8;
  const cv::Size image(400, 300);
  for (uint64_t i = 0; i < 500; ++i) {
    Rng rng = Rng::for_sample(1, 2, i);
    const CropBox b = random_resized_crop_box(image, p, rng);
    const double area = static_cast<double>(b.width) * b.height / (400.0 * 300.0);
    EXPECT_GE(area, 0.35 - 0.01);
    EXPECT_LE(area, 0.6 + 0.01);
    const double ratio = static_cast<double>(b.width) / b.height;
    EXPECT_GE(ratio, 0.5 - 0.02);
    EXPECT_LE(ratio, 0.8 + 0.02);
    EXPECT_LE(b.x + b.width, 400);
    EXPECT_LE(b.y + b.height, 300);
  }
}

// torchvision.RandomErasing's get_params: area fraction and h/w ratio in
// range, inside the image, strictly smaller than it; erased pixels are 0
// after normalisation and no other pixel changes.
TEST(RandomErasing, BoxesFollowTorchvisionsRulesAndOnlyTheBoxIsZeroed) {
  RandomErasingParams p;
  p.probability = 1;
  for (uint64_t i = 0; i < 500; ++i) {
    Rng rng = Rng::for_sample(4, 0, i);
    const CropBox b = random_erasing_box(64, p, rng);
    if (b.width == 0) continue;  // ten failed attempts: nothing erased
    const double area = static_cast<double>(b.width) * b.height / (64.0 * 64.0);
    EXPECT_GE(area, 0.02 - 0.02);
    EXPECT_LE(area, 0.33 + 0.03);
    const double ratio = static_cast<double>(b.height) / b.width;
    EXPECT_GE(ratio, 0.3 * 0.8);
    EXPECT_LE(ratio, 3.3 * 1.25);
    EXPECT_LT(b.width, 64);
    EXPECT_LT(b.height, 64);
    EXPECT_LE(b.x + b.width, 64);
    EXPECT_LE(b.y + b.height, 64);
  }
  const CropBox box{3, 5, 7, 4};
  for (bool channels_last : {false, true}) {
    auto image = torch::rand({3, 16, 16});
    if (channels_last) image = image.permute({1, 2, 0}).contiguous();
    const auto before = image.clone();
    erase_normalized(image.data_ptr<float>(), 16, box, channels_last);
    auto chw = channels_last ? image.permute({2, 0, 1}) : image;
    auto was = channels_last ? before.permute({2, 0, 1}) : before;
    using torch::indexing::Slice;
    const auto region = chw.index({Slice(), Slice(5, 9), Slice(3, 10)});
    EXPECT_EQ(region.abs().sum().item<float>(), 0.0f);
    chw.index_put_({Slice(), Slice(5, 9), Slice(3, 10)},
                   was.index({Slice(), Slice(5, 9), Slice(3, 10)}));
    EXPECT_TRUE(torch::equal(chw, was));
  }
  // The consumer-side version on a batch gives the same.
  auto batch = torch::rand({2, 3, 16, 16});
  auto expected = batch.clone();
  erase_normalized(expected[1].data_ptr<float>(), 16, box, false);
  const auto boxes = torch::tensor({0, 0, 0, 0, 3, 5, 7, 4}, torch::kInt32).view({2, 4});
  EXPECT_TRUE(torch::equal(apply_erasing(batch, boxes), expected));
}

// ---- Parity with torchvision 0.14 + PIL (Debian's /usr/bin/python3) ----

bool have_torchvision() {
  static const int ok =
      scenery::testing::run_command("/usr/bin/python3 -c 'import torchvision' 2>/dev/null")
          .exit_code == 0;
  return ok;
}

// A smooth, natural-looking test image (blurred noise plus gradients), so the
// comparison measures resampling, not aliasing of white noise.
cv::Mat natural_image(int w, int h) {
  cv::Mat noise(h, w, CV_8UC3);
  cv::RNG r(12345);
  r.fill(noise, cv::RNG::UNIFORM, 0, 255);
  cv::Mat smooth;
  cv::GaussianBlur(noise, smooth, {0, 0}, 3.0);
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const cv::Vec3b s = smooth.at<cv::Vec3b>(y, x);
      img.at<cv::Vec3b>(y, x) = {cv::saturate_cast<uint8_t>((s[0] - 128) * 4 + x * 255 / w),
                                 cv::saturate_cast<uint8_t>((s[1] - 128) * 4 + y * 255 / h),
                                 cv::saturate_cast<uint8_t>((s[2] - 128) * 4 + 128)};
    }
  return img;
}

torch::Tensor read_floats(const fs::path& p, std::vector<int64_t> shape) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto t = torch::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size() / 4)}, torch::kFloat32)
               .clone();
  return t.view(shape);
}

struct Diff {
  double mean_levels, max_levels;
};
// |ours - theirs| in 8-bit grey levels (undoing Normalize's std).
Diff grey_level_diff(const torch::Tensor& ours, const torch::Tensor& theirs) {
  const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  const auto d = ((ours - theirs).abs() * std * 255.0f);
  return {d.mean().item<double>(), d.max().item<double>()};
}

TEST(TorchvisionParity, ResizeCenterCropNormalizeAndResizedCropAndTenCrop) {
  if (!have_torchvision()) GTEST_SKIP() << "/usr/bin/python3 without torchvision";
  TempDir dir;
  const cv::Mat rgb = natural_image(500, 375);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::imwrite((dir / "img.png").string(), bgr);
  const CropBox box{37, 21, 150, 170};  // an up-sampling crop
  const CropBox big{10, 5, 420, 350};   // a down-sampling crop (antialiased)
  const CropBox mild{3, 4, 250, 240};   // a mild down-sampling crop
  scenery::testing::write_text(dir / "ref.py", R"(
import sys, torch
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
d = sys.argv[1]
img = Image.open(d + '/img.png').convert('RGB')
norm = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
T.Compose([T.Resize(256), T.CenterCrop(224), norm])(img).numpy().tofile(d + '/eval.f32')
norm(F.resized_crop(img, 21, 37, 170, 150, [224, 224])).numpy().tofile(d + '/rrc_up.f32')
norm(F.resized_crop(img, 5, 10, 350, 420, [224, 224])).numpy().tofile(d + '/rrc_down.f32')
norm(F.resized_crop(img, 4, 3, 240, 250, [224, 224])).numpy().tofile(d + '/rrc_mild.f32')
crops = T.TenCrop(224)(T.Resize(256)(img))
torch.stack([norm(c) for c in crops]).numpy().tofile(d + '/ten.f32')
norm(img).numpy().tofile(d + '/plain.f32')
)");
  const auto r = scenery::testing::run_command("/usr/bin/python3 " + (dir / "ref.py").string() +
                                               " " + dir.path().string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat decoded = decode_rgb(dir / "img.png");

  // Normalize alone: bitwise equal.
  const auto plain = to_normalized_tensor(decoded);
  EXPECT_TRUE(torch::equal(plain, read_floats(dir / "plain.f32", {3, 375, 500})));

  const auto eval = to_normalized_tensor(eval_transform(Views{decoded, {}, {}, {}}, {}).image);
  const Diff de = grey_level_diff(eval, read_floats(dir / "eval.f32", {3, 224, 224}));
  const auto up = to_normalized_tensor(crop_resize(decoded, box, {224, 224}));
  const Diff du = grey_level_diff(up, read_floats(dir / "rrc_up.f32", {3, 224, 224}));
  const auto down = to_normalized_tensor(crop_resize(decoded, big, {224, 224}));
  const Diff dd = grey_level_diff(down, read_floats(dir / "rrc_down.f32", {3, 224, 224}));
  const auto mild_t = to_normalized_tensor(crop_resize(decoded, mild, {224, 224}));
  const Diff dm = grey_level_diff(mild_t, read_floats(dir / "rrc_mild.f32", {3, 224, 224}));
  const auto tens = read_floats(dir / "ten.f32", {10, 3, 224, 224});
  const auto ours_ten = ten_crop(decoded, {});
  double ten_mean = 0, ten_max = 0;
  for (int i = 0; i < 10; ++i) {
    const Diff d = grey_level_diff(to_normalized_tensor(ours_ten[i]), tens[i]);
    ten_mean = std::max(ten_mean, d.mean_levels);
    ten_max = std::max(ten_max, d.max_levels);
  }
  std::printf(
      "parity (grey levels, mean / max): eval %.3f / %.1f, crop-up %.3f / %.1f, "
      "crop-down %.3f / %.1f, crop-mild %.3f / %.1f, ten-crop %.3f / %.1f\n",
      de.mean_levels, de.max_levels, du.mean_levels, du.max_levels, dd.mean_levels, dd.max_levels,
      dm.mean_levels, dm.max_levels, ten_mean, ten_max);
  // Pillow's resampler, reproduced: every transform is bitwise torchvision's.
  EXPECT_TRUE(torch::equal(eval, read_floats(dir / "eval.f32", {3, 224, 224})));
  EXPECT_TRUE(torch::equal(up, read_floats(dir / "rrc_up.f32", {3, 224, 224})));
  EXPECT_TRUE(torch::equal(down, read_floats(dir / "rrc_down.f32", {3, 224, 224})));
  EXPECT_TRUE(torch::equal(mild_t, read_floats(dir / "rrc_mild.f32", {3, 224, 224})));
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(torch::equal(to_normalized_tensor(ours_ten[i]), tens[i])) << "crop " << i;
}

// ColorJitter's four operations, in chosen orders, with factors that blend
// and that extrapolate (clipping), and hue shifts both ways: bit for bit what
// torchvision 0.14's functional ops do to the PIL image.
TEST(TorchvisionParity, ColorJitterEqualsTorchvisionOnPilImagesBitForBit) {
  if (!have_torchvision()) GTEST_SKIP() << "/usr/bin/python3 without torchvision";
  TempDir dir;
  const cv::Mat rgb = natural_image(67, 45);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::imwrite((dir / "img.png").string(), bgr);
  const std::vector<JitterFactors> cases = {
      {1.3, 1, 1, 0, {0, 1, 2, 3}},         {0.55, 1, 1, 0, {0, 1, 2, 3}},
      {1, 1.6, 1, 0, {0, 1, 2, 3}},         {1, 0.3, 1, 0, {0, 1, 2, 3}},
      {1, 1, 1.9, 0, {0, 1, 2, 3}},         {1, 1, 0.2, 0, {0, 1, 2, 3}},
      {1, 1, 1, 0.23, {0, 1, 2, 3}},        {1, 1, 1, -0.41, {0, 1, 2, 3}},
      {1.2, 0.7, 1.4, -0.05, {3, 1, 0, 2}}, {0.8, 1.3, 0.6, 0.11, {2, 3, 1, 0}},
  };
  std::string spec;
  for (const auto& f : cases)
    spec += fmt::format("{} {} {} {} {}{}{}{}\n", f.brightness, f.contrast, f.saturation, f.hue,
                        f.order[0], f.order[1], f.order[2], f.order[3]);
  scenery::testing::write_text(dir / "cases.txt", spec);
  scenery::testing::write_text(dir / "ref.py", R"(
import sys, numpy as np
from PIL import Image
import torchvision.transforms.functional as F
d = sys.argv[1]
img = Image.open(d + '/img.png').convert('RGB')
for k, line in enumerate(open(d + '/cases.txt')):
    b, c, s, h, order = line.split()
    out = img
    for op in order:
        if op == '0' and float(b) != 1: out = F.adjust_brightness(out, float(b))
        if op == '1' and float(c) != 1: out = F.adjust_contrast(out, float(c))
        if op == '2' and float(s) != 1: out = F.adjust_saturation(out, float(s))
        if op == '3' and float(h) != 0: out = F.adjust_hue(out, float(h))
    np.asarray(out, dtype=np.uint8).tofile(d + '/out%d.u8' % k)
)");
  const auto r = scenery::testing::run_command("/usr/bin/python3 " + (dir / "ref.py").string() +
                                               " " + dir.path().string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat decoded = decode_rgb(dir / "img.png");
  for (size_t k = 0; k < cases.size(); ++k) {
    cv::Mat ours = decoded.clone();
    apply_jitter(ours, cases[k]);
    const std::string theirs = scenery::testing::read_text(dir / fmt::format("out{}.u8", k));
    ASSERT_EQ(theirs.size(), ours.total() * 3);
    const cv::Mat ref(ours.rows, ours.cols, CV_8UC3, const_cast<char*>(theirs.data()));
    EXPECT_EQ(cv::norm(ours, ref, cv::NORM_INF), 0) << "case " << k;
  }
}

}  // namespace
}  // namespace scenery::data
