#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <map>
#include <set>

#include "data/catalog_readers.h"
#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(Places365Catalog, ReadsSyntheticTrainValTestWithLabelsFromFolders) {
  TempDir dir;
  make_synth("places365", dir.path(), 4, 6);
  // Independent truth: the category file as plain lines "<path> <index>".
  const auto cats = lines_of(dir / "categories_places365.txt");
  ASSERT_EQ(cats.size(), 4u);
  EXPECT_FALSE(ends_with_newline(dir / "categories_places365.txt"));
  std::vector<std::string> paths;
  for (size_t i = 0; i < cats.size(); ++i) {
    const auto space = cats[i].rfind(' ');
    EXPECT_EQ(cats[i].substr(space + 1), std::to_string(i));
    paths.push_back(cats[i].substr(0, space));
  }

  const Catalog train = open_catalog(spec("places365", dir.path(), "train"));
  ASSERT_EQ(train.size(), 24u);
  ASSERT_EQ(train.num_classes(), 4);
  std::map<int64_t, int> per_class;
  for (size_t i = 0; i < train.size(); ++i) {
    const int64_t label = train.label(i);
    ++per_class[label];
    // "a/airfield/00000001.jpg": the class folder is the category path.
    const std::string image(train.image_path(i));
    EXPECT_EQ("/" + image.substr(0, image.rfind('/')), paths[label]) << image;
    EXPECT_TRUE(fs::exists(train.at(i).image)) << train.at(i).image;
  }
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(per_class[c], 6);
  for (size_t c = 0; c < 4; ++c)
    EXPECT_EQ("/" + paths[c].substr(1, 1) + "/" + train.class_names()[c], paths[c]);
  EXPECT_NE(train.at(0).image.string().find("data_256"), std::string::npos);

  const Catalog val = open_catalog(spec("places365", dir.path(), "val"));
  EXPECT_EQ(val.size(), 4u * synth_eval_per_class(6));
  EXPECT_EQ(std::string(val.image_path(0)), "Places365_val_00000001.jpg");
  EXPECT_TRUE(fs::exists(val.at(0).image));
  const Catalog test = open_catalog(spec("places365", dir.path(), "test"));
  EXPECT_EQ(test.size(), 4u * synth_eval_per_class(6));
  for (size_t i = 0; i < test.size(); ++i)
    EXPECT_EQ(test.label(i), -1);
  EXPECT_TRUE(fs::exists(test.at(test.size() - 1).image));
}

TEST(Places365Catalog, ReadsThreeLevelCategoryNames) {
  TempDir dir;
  write_text(dir / "categories_places365.txt",
             "/a/airfield 0\n/a/apartment_building/outdoor 1\n/b/bus_station/indoor 2");
  write_text(dir / "places365_train_standard.txt",
             "/a/airfield/00000001.jpg 0\n/b/bus_station/indoor/00004835.jpg 2\r\n"
             "/a/apartment_building/outdoor/00000007.jpg 1");
  const Catalog c = open_catalog(spec("places365", dir.path()));
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"airfield", "apartment_building/outdoor",
                                                       "bus_station/indoor"}));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.label(1), 2);
  EXPECT_EQ(std::string(c.image_path(1)), "b/bus_station/indoor/00004835.jpg");
  EXPECT_EQ(c.at(2).image, dir.path() / "data_256" / "a/apartment_building/outdoor/00000007.jpg");
}

TEST(Places365Catalog, LargeOptionReadsLargeFoldersWithShorterSide512) {
  TempDir dir;
  SynthOptions o;
  o.layout = "places365";
  o.out = dir.path();
  o.classes = 2;
  o.per_class = 2;
  o.large = true;
  write_synthetic_dataset(o);
  CatalogSpec s = spec("places365", dir.path(), "val");
  s.large = true;
  const Catalog c = open_catalog(s);
  ASSERT_GE(c.size(), 1u);
  EXPECT_NE(c.at(0).image.string().find("val_large"), std::string::npos);
  const cv::Mat large = cv::imread(c.at(0).image.string());
  EXPECT_EQ(std::min(large.cols, large.rows), kSynthLargeSide);
  const cv::Mat small = cv::imread((dir / "val_256" / "Places365_val_00000001.jpg").string());
  EXPECT_EQ(small.cols, 256);
  EXPECT_EQ(small.rows, 256);
}

TEST(Places365Catalog, LabelOutOfRangeNamesFileLineAndRange) {
  TempDir dir;
  write_text(dir / "categories_places365.txt", "/a/airfield 0\n/b/bar 1");
  write_text(dir / "places365_train_standard.txt", "/a/airfield/1.jpg 0\n/b/bar/2.jpg 7\n");
  const std::string m = data_error(spec("places365", dir.path()));
  EXPECT_CONTAINS(m, "places365_train_standard.txt:2:");
  EXPECT_CONTAINS(m, "label 7 out of range");
  EXPECT_CONTAINS(m, "0..1");
}

TEST(Places365Catalog, MalformedLineNamesFileAndLine) {
  TempDir dir;
  write_text(dir / "categories_places365.txt", "/a/airfield 0");
  write_text(dir / "places365_train_standard.txt", "/a/airfield/1.jpg 0\n/a/airfield/2.jpg\n");
  std::string m = data_error(spec("places365", dir.path()));
  EXPECT_CONTAINS(m, "places365_train_standard.txt:2:");
  EXPECT_CONTAINS(m, "expected '<path> <label>'");
  EXPECT_CONTAINS(m, "got '/a/airfield/2.jpg'");

  write_text(dir / "places365_train_standard.txt", "/a/airfield/1.jpg zero\n");
  m = data_error(spec("places365", dir.path()));
  EXPECT_CONTAINS(m, "places365_train_standard.txt:1:");
  EXPECT_CONTAINS(m, "integer label");
}

TEST(Places365Catalog, CategoryIndexMustMatchLine) {
  TempDir dir;
  write_text(dir / "categories_places365.txt", "/a/airfield 0\n/b/bar 2");
  write_text(dir / "places365_train_standard.txt", "/a/airfield/1.jpg 0\n");
  const std::string m = data_error(spec("places365", dir.path()));
  EXPECT_CONTAINS(m, "categories_places365.txt:2:");
  EXPECT_CONTAINS(m, "expected index 1");
  EXPECT_CONTAINS(m, "got 2");
}

TEST(Places365Catalog, MissingListAndCategoryFilesAreNamed) {
  TempDir dir;
  write_text(dir / "places365_train_standard.txt", "/a/airfield/1.jpg 0\n");
  std::string m = data_error(spec("places365", dir.path()));
  EXPECT_CONTAINS(m, "missing category file");
  EXPECT_CONTAINS(m, "categories_places365.txt");
  write_text(dir / "categories_places365.txt", "/a/airfield 0");
  m = data_error(spec("places365", dir.path(), "val"));
  EXPECT_CONTAINS(m, "missing list file");
  EXPECT_CONTAINS(m, "places365_val.txt");
}

TEST(Places365Catalog, EmptyListIsAnError) {
  TempDir dir;
  write_text(dir / "categories_places365.txt", "/a/airfield 0");
  write_text(dir / "places365_train_standard.txt", "\n");
  EXPECT_CONTAINS(data_error(spec("places365", dir.path())), "empty dataset");
}

TEST(Places365Catalog, UnknownSplitListsValidOnes) {
  TempDir dir;
  try {
    open_catalog(spec("places365", dir.path(), "dev"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "train, val, test");
  }
}

TEST(Places365Catalog, TrainListOf1p8MillionLinesStaysUnder300MB) {
  TempDir dir;
  std::string cats;
  for (int c = 0; c < 365; ++c)
    cats += (c ? "\n" : "") + ("/c/class_" + std::to_string(c) + " " + std::to_string(c));
  write_text(dir / "categories_places365.txt", cats);
  std::string list;
  list.reserve(1803460 * 40);
  char line[96];
  for (int i = 0; i < 1803460; ++i) {
    const int c = i % 365;
    list.append(line,
                std::snprintf(line, sizeof line, "/c/class_%d/%08d.jpg %d\n", c, i / 365 + 1, c));
  }
  write_text(dir / "places365_train_standard.txt", list);
  list.clear();
  list.shrink_to_fit();
  const auto t0 = std::chrono::steady_clock::now();
  const Catalog c = open_catalog(spec("places365", dir.path()));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(c.size(), 1803460u);
  EXPECT_EQ(c.label(1803459), 1803459 % 365);
  EXPECT_EQ(std::string(c.image_path(366)), "c/class_1/00000002.jpg");
  EXPECT_LT(c.memory_bytes(), 300u << 20);
  std::printf("1.8M-line catalog: %.2f s, %.1f MB\n", s, c.memory_bytes() / 1048576.0);
}

}  // namespace
}  // namespace scenery::data
