#include <gtest/gtest.h>

#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(Places205Catalog, ReadsSyntheticSpaceSeparatedCsvLists) {
  TempDir dir;
  make_synth("places205", dir.path(), 3, 4);
  const auto cats = lines_of(dir / "categoryIndex_places205.csv");
  ASSERT_EQ(cats.size(), 3u);
  const Catalog train = open_catalog(spec("places205", dir.path(), "train"));
  ASSERT_EQ(train.size(), 12u);
  for (size_t i = 0; i < train.size(); ++i) {
    const std::string p(train.image_path(i));
    EXPECT_EQ(p.find("gsun_"), p.rfind('/') + 1) << p;
    EXPECT_EQ(p.size() - p.rfind('/') - 1, std::string("gsun_.jpg").size() + 32) << p;
    const std::string cat = cats[train.label(i)];
    EXPECT_EQ(cat.substr(0, cat.rfind(' ')), "/" + p.substr(0, p.rfind('/')));
    EXPECT_TRUE(fs::exists(train.at(i).image));
  }
  const Catalog val = open_catalog(spec("places205", dir.path(), "val"));
  EXPECT_EQ(val.size(), 3u * synth_eval_per_class(4));
}

TEST(Places205Catalog, AcceptsHeaderLineAndCategoryFileInSplitFolder) {
  TempDir dir;
  write_text(dir / "trainvalsplit_places205" / "categoryIndex_places205.csv",
             "category index\n/a/abbey 0\n/a/airport_terminal 1\n");
  write_text(dir / "trainvalsplit_places205" / "train_places205.csv",
             "a/abbey/gsun_0.jpg 0\na/airport_terminal/gsun_1.jpg 1\n");
  const Catalog c = open_catalog(spec("places205", dir.path()));
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"abbey", "airport_terminal"}));
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.label(1), 1);
}

TEST(Places205Catalog, LabelOutOfRangeAndMalformedLinesNameFileAndLine) {
  TempDir dir;
  write_text(dir / "categoryIndex_places205.csv", "/a/abbey 0\n");
  write_text(dir / "trainvalsplit_places205" / "train_places205.csv",
             "a/abbey/gsun_0.jpg 0\na/abbey/gsun_1.jpg 1\n");
  std::string m = data_error(spec("places205", dir.path()));
  EXPECT_CONTAINS(m, "train_places205.csv:2:");
  EXPECT_CONTAINS(m, "label 1 out of range: expected 0..0");
  write_text(dir / "trainvalsplit_places205" / "train_places205.csv", "a/abbey/gsun_0.jpg,0\n");
  m = data_error(spec("places205", dir.path()));
  EXPECT_CONTAINS(m, "train_places205.csv:1:");
  EXPECT_CONTAINS(m, "got 'a/abbey/gsun_0.jpg,0'");
  EXPECT_CONTAINS(data_error(spec("places205", dir.path(), "val")), "missing list file");
}

}  // namespace
}  // namespace scenery::data
