#include <gtest/gtest.h>

#include "data/dataset_check.h"
#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::run_command;
using scenery::testing::TempDir;
using scenery::testing::tool_path;
using scenery::testing::write_text;
using namespace scenery::data::testing;

CheckOptions quiet() {
  CheckOptions o;
  o.progress = false;
  return o;
}

TEST(DatasetCheck, CleanSyntheticDatasetIsOkWithHistogramAndSizes) {
  TempDir dir;
  make_synth("sun397", dir.path(), 3, 4, 2, 48);
  const Catalog c = open_catalog(spec("sun397", dir.path()));
  const CheckReport r = check_catalog(c, quiet());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.samples, 12);
  EXPECT_EQ(r.class_counts, (std::vector<int64_t>{4, 4, 4}));
  int64_t decoded = 0;
  for (const auto& [size, n] : r.image_sizes) {
    EXPECT_EQ(std::min(size.first, size.second), 48);
    decoded += n;
  }
  EXPECT_EQ(decoded, 12);
  const std::string text = format_check_report(c, r);
  EXPECT_CONTAINS(text, "missing: 0, corrupt: 0");
  EXPECT_CONTAINS(text, "OK");
}

TEST(DatasetCheck, MissingAndCorruptImagesAreCountedAndNamed) {
  TempDir dir;
  make_synth("places365", dir.path(), 2, 3, 2, 32);
  const Catalog c = open_catalog(spec("places365", dir.path()));
  fs::remove(c.at(1).image);
  write_text(c.at(4).image, "\xff\xd8\xff truncated jpeg");
  const CheckReport r = check_catalog(c, quiet());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.corrupt, 1);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_CONTAINS(r.problems[0], c.at(1).image.string() + ": missing");
  EXPECT_CONTAINS(r.problems[1], c.at(4).image.string() + ": corrupt");
  EXPECT_CONTAINS(format_check_report(c, r), "FAILED");

  CheckOptions stats = quiet();
  stats.decode = false;
  const CheckReport s = check_catalog(c, stats);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.class_counts, (std::vector<int64_t>{3, 3}));
}

TEST(DatasetCheck, MaskThatIsNotAnEightBitLabelImageIsCorrupt) {
  TempDir dir;
  make_synth("ade20k", dir.path(), 2, 2, 2, 32);
  const Catalog c = open_catalog(spec("ade20k", dir.path()));
  // A colour JPEG where an 8-bit single-channel PNG belongs.
  fs::copy_file(c.at(0).image, c.at(0).mask, fs::copy_options::overwrite_existing);
  const CheckReport r = check_catalog(c, quiet());
  EXPECT_EQ(r.corrupt, 1);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_CONTAINS(r.problems[0], c.at(0).mask.string());
}

TEST(DatasetCheck, ToolExitsNonZeroOnlyWhenSomethingIsMissing) {
  TempDir dir;
  const std::string tool = tool_path("scenery-data");
  auto r =
      run_command(tool + " synth --layout places365 --classes 2 --per-class 2 --size 32 --out " +
                  dir.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string check =
      tool + " check --data.dataset places365 --data.split val --data.root " + dir.path().string();
  r = run_command(check);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "OK");
  fs::remove(dir / "val_256" / "Places365_val_00000001.jpg");
  r = run_command(check);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "Places365_val_00000001.jpg: missing");
  r = run_command(tool + " stats --data.dataset places365 --data.split val --data.root " +
                  dir.path().string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(tool + " check --data.dataset imagenet --data.root " + dir.path().string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "expected one of places365, ");
}

}  // namespace
}  // namespace scenery::data
