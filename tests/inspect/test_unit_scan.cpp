// The two passes of unit dissection against a brute-force reference on a
// small dataset (exact quantile by sorting, top images by sorting, IoU sums by
// resizing every unit's map), the drawings against hand-computed pixels, and
// the report's structure.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "data/decode.h"
#include "data/transforms.h"
#include "inspect/unit_report.h"
#include "inspect/unit_scan.h"
#include "models/layer_taps.h"
#include "models/registry.h"
#include "support/test_support.h"

namespace scenery::inspect {
namespace {

namespace F = torch::nn::functional;
using scenery::testing::read_text;
using scenery::testing::TempDir;
using scenery::testing::write_text;

constexpr int kSize = 32;
constexpr int64_t kClasses = 4;  // class 4 never appears

// Images of different sizes with blobs, their annotations, and one unreadable file.
std::vector<UnitImage> write_dataset(const std::filesystem::path& dir, int n) {
  std::filesystem::create_directories(dir);
  std::vector<UnitImage> out;
  cv::RNG rng(7);
  for (int i = 0; i < n; ++i) {
    const int h = 24 + 4 * (i % 3), w = 28 + 2 * (i % 4);
    cv::Mat image(h, w, CV_8UC3), label(h, w, CV_8U);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        label.at<uint8_t>(y, x) = static_cast<uint8_t>((x * 3 / w + y * 2 / h + i) % kClasses);
    const auto img = dir / fmt::format("img{:02d}.png", i);
    const auto ann = dir / fmt::format("img{:02d}_seg.png", i);
    cv::imwrite(img.string(), image);
    cv::imwrite(ann.string(), label);
    out.push_back({img, ann, img.filename().string()});
  }
  write_text(dir / "broken.png", "not a png");
  out.insert(out.begin() + 3, UnitImage{dir / "broken.png", dir / "img00_seg.png", "broken.png"});
  return out;
}

torch::Tensor input_of(const std::filesystem::path& file, const data::NormalizeParams& norm) {
  const cv::Mat rgb = data::decode_rgb(file);
  return data::to_normalized_tensor(
      data::crop_resize(rgb, data::CropBox{0, 0, rgb.cols, rgb.rows}, cv::Size(kSize, kSize)),
      norm);
}

// numpy.quantile(values, q) with its linear definition, by sorting.
double numpy_quantile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  const double p = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(p));
  const double f = p - std::floor(p);
  const double a = v[lo], b = v[std::min(lo + 1, v.size() - 1)];
  return f >= 0.5 ? b - (b - a) * (1 - f) : a + (b - a) * f;
}

UnitScanOptions small_options() {
  UnitScanOptions o;
  o.layers = {"layer4", "layer3"};
  o.input_size = kSize;
  o.batch_size = 5;
  o.top_images = 3;
  // Enough positions above it on 1 x 1 and 2 x 2 maps, and q (N - 1) not an
  // integer (N = 11, 44), so that T_u falls between activations: at a tie
  // with T_u, float rounding in the reference's resize decides.
  o.quantile = 0.87;
  o.classes = kClasses;
  o.thumbnail = 16;
  return o;
}

TEST(UnitScan, EqualsABruteForceReferenceAndDoesNotDependOnTheCache) {
  TempDir dir;
  const auto images = write_dataset(dir.path(), 11);
  torch::manual_seed(5);
  auto model = models::create_model("resnet18", 3);
  UnitScanOptions o = small_options();
  o.cache_bytes = int64_t{1} << 30;
  const UnitScan cached = scan_units(model, torch::kCPU, images, o);
  o.cache_bytes = 0;
  const UnitScan recomputed = scan_units(model, torch::kCPU, images, o);
  ASSERT_TRUE(cached.cached);
  ASSERT_FALSE(recomputed.cached);
  ASSERT_EQ(cached.skipped.size(), 1u);
  EXPECT_EQ(cached.skipped[0].first, 3u);  // broken.png
  EXPECT_EQ(cached.images, 11);
  ASSERT_TRUE(cached.annotated);

  // Reference activations, in the scan's batches (oneDNN's results depend on
  // the batch in the last bits).
  torch::NoGradGuard no_grad;
  model.eval();
  const models::LayerTaps taps(model);
  std::vector<size_t> good;
  std::vector<std::vector<torch::Tensor>> maps(2);  // per layer, per good image: U x h x w
  for (size_t begin = 0; begin < images.size(); begin += 5) {
    std::vector<torch::Tensor> inputs;
    for (size_t i = begin; i < std::min(images.size(), begin + 5); ++i) {
      if (i == 3) continue;
      good.push_back(i);
      inputs.push_back(input_of(images[i].image, o.normalize));
    }
    const auto f =
        taps.run(torch::stack(inputs).contiguous(torch::MemoryFormat::ChannelsLast), o.layers);
    for (size_t l = 0; l < 2; ++l)
      for (int64_t k = 0; k < f[l].size(0); ++k)
        maps[l].push_back(f[l][k].contiguous());
  }
  for (size_t l = 0; l < 2; ++l) {
    const LayerUnits& got = cached.layers[l];
    const LayerUnits& again = recomputed.layers[l];
    ASSERT_EQ(got.units, maps[l][0].size(0));
    EXPECT_EQ(got.height, l == 0 ? 1 : 2);
    EXPECT_EQ(got.thresholds, again.thresholds);
    for (int64_t u = 0; u < got.units; ++u) {
      std::vector<float> values;
      std::vector<std::pair<float, size_t>> maxima;
      for (size_t k = 0; k < good.size(); ++k) {
        const auto m = maps[l][k][u].contiguous();
        values.insert(values.end(), m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
        maxima.emplace_back(m.max().item<float>(), good[k]);
      }
      ASSERT_NEAR(got.thresholds[static_cast<size_t>(u)], numpy_quantile(values, o.quantile),
                  1e-6 * (1 + std::abs(numpy_quantile(values, o.quantile))))
          << "layer " << l << " unit " << u;
      std::stable_sort(maxima.begin(), maxima.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      const auto& top = got.top[static_cast<size_t>(u)];
      ASSERT_EQ(top.size(), 3u);
      for (size_t r = 0; r < 3; ++r) {
        EXPECT_EQ(top[r].image, maxima[r].second) << "unit " << u << " rank " << r;
        EXPECT_EQ(top[r].image, again.top[static_cast<size_t>(u)][r].image);
      }
      // The drawing of rank 0: the threshold region on the thumbnail.
      const cv::Mat rgb = data::decode_rgb(images[top[0].image].image);
      const cv::Mat thumb = data::crop_resize(rgb, data::CropBox{0, 0, rgb.cols, rgb.rows},
                                              cv::Size(o.thumbnail, o.thumbnail));
      const size_t k0 =
          static_cast<size_t>(std::find(good.begin(), good.end(), top[0].image) - good.begin());
      const cv::Mat expected =
          draw_threshold_region(thumb, maps[l][k0][u], got.thresholds[static_cast<size_t>(u)]);
      const cv::Mat& strip = got.strips[static_cast<size_t>(u)];
      ASSERT_EQ(strip.cols, 3 * o.thumbnail);
      EXPECT_EQ(cv::norm(strip(cv::Rect(0, 0, o.thumbnail, o.thumbnail)), expected, cv::NORM_INF),
                0);
      EXPECT_EQ(cv::norm(strip, again.strips[static_cast<size_t>(u)], cv::NORM_INF), 0);
    }
    // IoU sums: every unit's map resized to the annotation, every pixel
    // counted. A pixel within float rounding of T_u (a resized constant map
    // is not exactly constant) may go either way: the counts are bounded by
    // the pixels clearly above and those not clearly below.
    const size_t cells = static_cast<size_t>(got.units * (kClasses + 1));
    std::vector<int64_t> inter_lo(cells, 0), inter_hi(cells, 0),
        area_lo(static_cast<size_t>(got.units), 0), area_hi(static_cast<size_t>(got.units), 0),
        class_area(kClasses + 1, 0);
    int64_t undecided = 0, decided = 0;
    for (size_t k = 0; k < good.size(); ++k) {
      const cv::Mat label = data::decode_label_png(images[good[k]].annotation);
      const auto up = F::interpolate(maps[l][k].unsqueeze(0),
                                     F::InterpolateFuncOptions()
                                         .size(std::vector<int64_t>{label.rows, label.cols})
                                         .mode(torch::kBilinear)
                                         .align_corners(false))[0];
      const auto acc = up.accessor<float, 3>();
      for (int y = 0; y < label.rows; ++y)
        for (int x = 0; x < label.cols; ++x) {
          const int c = label.at<uint8_t>(y, x);
          if (c == 0) continue;
          ++class_area[static_cast<size_t>(c)];
          for (int64_t u = 0; u < got.units; ++u) {
            const float t = got.thresholds[static_cast<size_t>(u)];
            const float margin = 1e-5f * (1 + std::abs(t));
            const size_t cell = static_cast<size_t>(u * (kClasses + 1) + c);
            if (acc[u][y][x] > t + margin) {
              ++area_lo[static_cast<size_t>(u)];
              ++inter_lo[cell];
            }
            // Exactly T (ReLU zeros at T = 0) is not above in any arithmetic.
            if (acc[u][y][x] > t - margin && acc[u][y][x] != t) {
              ++area_hi[static_cast<size_t>(u)];
              ++inter_hi[cell];
            }
          }
        }
    }
    int64_t units_with_area = 0;
    for (int64_t u = 0; u < got.units; ++u) {
      const auto su = static_cast<size_t>(u);
      EXPECT_GE(got.iou->unit_area(u), area_lo[su]) << u;
      EXPECT_LE(got.iou->unit_area(u), area_hi[su]) << u;
      EXPECT_EQ(again.iou->unit_area(u), got.iou->unit_area(u)) << u;
      units_with_area += area_lo[su] > 0;
      undecided += area_hi[su] - area_lo[su];
      decided += area_lo[su];
      for (int64_t c = 1; c <= kClasses; ++c) {
        const size_t cell = static_cast<size_t>(u * (kClasses + 1) + c);
        EXPECT_GE(got.iou->intersection(u, c), inter_lo[cell]);
        EXPECT_LE(got.iou->intersection(u, c), inter_hi[cell]);
        EXPECT_EQ(again.iou->intersection(u, c), got.iou->intersection(u, c));
      }
    }
    EXPECT_GT(units_with_area, 0);
    // The bounds leave (almost) nothing open.
    EXPECT_LT(undecided, decided / 20) << "undecided " << undecided << " of " << decided;
    for (int64_t c = 1; c <= kClasses; ++c)
      EXPECT_EQ(got.iou->class_area(c), class_area[static_cast<size_t>(c)]);
    EXPECT_EQ(got.iou->class_area(kClasses), 0);  // absent everywhere
    EXPECT_EQ(got.iou->iou(0, kClasses), 0.0);
  }
}

TEST(UnitScan, DrawingsByHand) {
  // A 2 x 2 map with 10 at the bottom right, bilinear to 4 x 4 (half-pixel
  // centres): weights 0, 0.25, 0.75, 1 per axis, so 10 * wy * wx > 5 only in
  // the bottom-right 2 x 2 block. Outside: 0.2 * 100 = 20.
  const cv::Mat rgb(4, 4, CV_8UC3, cv::Scalar(100, 100, 100));
  const auto map = torch::tensor({0.f, 0.f, 0.f, 10.f}).view({2, 2});
  const cv::Mat region = draw_threshold_region(rgb, map, 5.f);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_EQ(region.at<cv::Vec3b>(y, x)[1], (y >= 2 && x >= 2) ? 100 : 20) << y << "," << x;
  // Segmentation: |-9| at the centre of 5 x 5, 3 x 3 mean -> 1 on the centre's
  // 3 x 3 block, 0 elsewhere; / max; same size; > 0.2: that block.
  auto peak = torch::zeros({5, 5});
  peak[2][2] = -9.f;
  const cv::Mat mask = unit_segmentation_mask(peak, cv::Size(5, 5), 0.2);
  EXPECT_EQ(cv::countNonZero(mask), 9);
  EXPECT_EQ(mask.at<uint8_t>(1, 1), 1);
  EXPECT_EQ(mask.at<uint8_t>(0, 2), 0);
  // A constant-zero map segments nothing.
  EXPECT_EQ(cv::countNonZero(unit_segmentation_mask(torch::zeros({3, 3}), cv::Size(6, 6), 0.2)), 0);
}

TEST(UnitReport, IsOneOfflinePageWithAStripPerUnit) {
  TempDir dir;
  const auto images = write_dataset(dir.path() / "data", 6);
  torch::manual_seed(6);
  auto model = models::create_model("resnet18", 3);
  UnitScanOptions o = small_options();
  o.layers = {"layer3"};
  const UnitScan scan = scan_units(model, torch::kCPU, images, o);
  UnitReportInfo info;
  info.title = "test <report>";
  info.class_names = {"wall", "floor", "bed & sofa", "never"};
  const auto out = dir.path() / "report";
  const std::string summary = write_unit_report(out, scan, images, info);
  const std::string html = read_text(out / "index.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("test &lt;report&gt;"), std::string::npos);
  const std::regex img("<img class=\"strip\"[^>]*src=\"([^\"]+)\"");
  int64_t strips = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), img); it != std::sregex_iterator();
       ++it) {
    ++strips;
    EXPECT_TRUE(std::filesystem::exists(out / (*it)[1].str())) << (*it)[1].str();
  }
  EXPECT_EQ(strips, scan.layers[0].units);
  const std::string csv = read_text(out / "units.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), scan.layers[0].units + 1);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line,
            "layer,unit,label,class,iou,label2,class2,iou2,label3,class3,iou3,threshold,"
            "top_activation,detector");
  int64_t labelled = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');)
      fields.push_back(cell);
    ASSERT_GE(fields.size(), 5u) << line;
    if (fields[2].empty()) continue;
    ++labelled;  // the class id names the label's class
    const int cls = std::stoi(fields[3]);
    ASSERT_GE(cls, 1);
    ASSERT_LE(cls, 4);
    EXPECT_EQ(fields[2], info.class_names[static_cast<size_t>(cls - 1)]) << line;
  }
  EXPECT_GT(labelled, 0);
  EXPECT_NE(summary.find("\"detectors\""), std::string::npos);
  EXPECT_NE(summary.find("\"skipped\": 1"), std::string::npos);
}

TEST(UnitScan, MixedAnnotationsAndBadLayersAreClearErrors) {
  TempDir dir;
  auto images = write_dataset(dir.path(), 3);
  auto model = models::create_model("resnet18", 3);
  UnitScanOptions o = small_options();
  o.layers = {"layer9"};
  EXPECT_THROW(scan_units(model, torch::kCPU, images, o), ModelError);
  o = small_options();
  images[1].annotation.clear();
  EXPECT_THROW(scan_units(model, torch::kCPU, images, o), DataError);
}

}  // namespace
}  // namespace scenery::inspect
