#include "eval/parsing_submission.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "eval/eval_test_helpers.h"
#include "support/test_support.h"

namespace scenery::eval {
namespace {
namespace fs = std::filesystem;
using testing::TempDir;

void write_png(const fs::path& file, const cv::Mat& m) {
  fs::create_directories(file.parent_path());
  ASSERT_TRUE(cv::imwrite(file.string(), m));
}

TEST(ParsingSubmission, WriterPngsReadBackAsRawLabels) {
  TempDir dir;
  auto labels = torch::randint(1, 151, {37, 53}, torch::kLong);
  const auto path = write_parsing_png(dir / "sub", "ADE_test_00000001", labels);
  EXPECT_EQ(path.filename(), "ADE_test_00000001.png");
  const cv::Mat back = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(back.type(), CV_8UC1);
  ASSERT_EQ(back.rows, 37);
  ASSERT_EQ(back.cols, 53);
  for (int r = 0; r < 37; ++r) {
    for (int c = 0; c < 53; ++c)
      ASSERT_EQ(back.at<uint8_t>(r, c), labels[r][c].item<int64_t>());
  }
}

TEST(ParsingSubmission, WriterRefusesLabelsOutsideOneTo150) {
  TempDir dir;
  EXPECT_NE(error_of([&] {
              write_parsing_png(dir.path(), "x", torch::zeros({2, 2}, torch::kLong));
            }).find("needs 1..150"),
            std::string::npos);
  EXPECT_THROW(write_parsing_png(dir.path(), "x", torch::full({2, 2}, 151, torch::kLong)),
               EvalError);
}

TEST(ParsingSubmission, ScorerOnWriterOutputReproducesTheMeter) {
  TempDir dir;
  torch::manual_seed(2);
  SegmentationMeter expected(150);
  for (int i = 1; i <= 4; ++i) {
    const std::string stem = fmt::format("ADE_val_{:08}", i);
    const auto gt = torch::randint(0, 151, {20 + i, 30}, torch::kLong);
    const auto pred = torch::randint(1, 151, {20 + i, 30}, torch::kLong);
    const auto merged =
        torch::where(torch::rand({20 + i, 30}) < 0.5, torch::clamp_min(gt, 1), pred);
    write_parsing_png(dir / "pred", stem, merged);
    const auto gt8 = gt.to(torch::kByte).contiguous();
    write_png(dir / "ann" / (stem + ".png"),
              cv::Mat(20 + i, 30, CV_8UC1, gt8.data_ptr<uint8_t>()).clone());
    expected.add(merged, gt);
  }
  const auto got = score_parsing_folder(dir / "pred", dir / "ann");
  EXPECT_DOUBLE_EQ(got.pixel_accuracy(), expected.pixel_accuracy());
  EXPECT_DOUBLE_EQ(got.mean_iou(), expected.mean_iou());
  EXPECT_EQ(got.labelled_pixels(), expected.labelled_pixels());

  // `scenery-eval score --json` writes the same numbers at full precision.
  const auto scored = testing::run_command(
      testing::tool_path("scenery-eval") + " score --parsing " + (dir / "pred").string() +
      " --annotations " + (dir / "ann").string() + " --json " + (dir / "score.json").string());
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  const std::string json = testing::read_text(dir / "score.json");
  auto number = [&](const std::string& key) {
    const auto at = json.find("\"" + key + "\": ");
    EXPECT_NE(at, std::string::npos) << key << " in " << json;
    return at == std::string::npos ? -1.0 : std::stod(json.substr(at + key.size() + 4));
  };
  EXPECT_EQ(number("pixel_accuracy"), expected.pixel_accuracy());
  EXPECT_EQ(number("mean_iou"), expected.mean_iou());
  EXPECT_EQ(number("labelled_pixels"), static_cast<double>(expected.labelled_pixels()));
  const auto iou_at = json.find("\"iou\": [");
  ASSERT_NE(iou_at, std::string::npos) << json;
  EXPECT_EQ(std::stod(json.substr(iou_at + 8)), expected.iou(1));  // class 1 first
}

TEST(ParsingSubmission, ScorerRejectsBadPredictionsNamingTheFile) {
  TempDir dir;
  const cv::Mat gt(4, 5, CV_8UC1, cv::Scalar(3));
  write_png(dir / "ann" / "a.png", gt);

  write_png(dir / "p1" / "a.png", cv::Mat(4, 6, CV_8UC1, cv::Scalar(3)));
  EXPECT_NE(error_of([&] {
              score_parsing_folder(dir / "p1", dir / "ann");
            }).find("p1/a.png' is 6x4 but its annotation is 5x4"),
            std::string::npos);

  write_png(dir / "p2" / "a.png", cv::Mat(4, 5, CV_8UC3, cv::Scalar(3, 3, 3)));
  EXPECT_NE(error_of([&] {
              score_parsing_folder(dir / "p2", dir / "ann");
            }).find("must be an 8-bit single-channel PNG, got 8-bit with 3 channels"),
            std::string::npos);

  write_png(dir / "p3" / "a.png", cv::Mat(4, 5, CV_16UC1, cv::Scalar(3)));
  EXPECT_NE(error_of([&] { score_parsing_folder(dir / "p3", dir / "ann"); }).find("16-bit"),
            std::string::npos);

  write_png(dir / "p4" / "a.png", cv::Mat(4, 5, CV_8UC1, cv::Scalar(151)));
  EXPECT_NE(error_of([&] {
              score_parsing_folder(dir / "p4", dir / "ann");
            }).find("contains label 151; valid labels are 1..150"),
            std::string::npos);

  fs::create_directories(dir / "p5");
  EXPECT_NE(error_of([&] { score_parsing_folder(dir / "p5", dir / "ann"); }).find("no prediction"),
            std::string::npos);

  write_png(dir / "p6" / "a.png", gt);
  write_png(dir / "p6" / "b.png", gt);
  EXPECT_NE(error_of([&] {
              score_parsing_folder(dir / "p6", dir / "ann");
            }).find("p6/b.png' has no annotation of that name"),
            std::string::npos);

  testing::write_text(dir / "p7" / "a.png", "not a png");
  EXPECT_NE(error_of([&] {
              score_parsing_folder(dir / "p7", dir / "ann");
            }).find("is not a readable PNG"),
            std::string::npos);
}

TEST(ParsingSubmission, ZipHoldsEveryPngAndPythonCanReadIt) {
  TempDir dir;
  write_parsing_png(dir / "sub", "ADE_test_00000002", torch::full({3, 3}, 7, torch::kLong));
  write_parsing_png(dir / "sub", "ADE_test_00000001", torch::full({2, 2}, 9, torch::kLong));
  zip_parsing_submission(dir / "sub", dir / "sub.zip");
  const auto r = testing::run_command(
      "/usr/bin/python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
      "assert z.testzip() is None; print(' '.join(z.namelist()))\" " +
      (dir / "sub.zip").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "ADE_test_00000001.png ADE_test_00000002.png\n");
}

}  // namespace
}  // namespace scenery::eval
