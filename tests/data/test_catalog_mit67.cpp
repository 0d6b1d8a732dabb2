#include <gtest/gtest.h>

#include <algorithm>

#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(Mit67Catalog, ReadsNamesWithSpacesAndApostrophesAsWholeLines) {
  TempDir dir;
  const SynthResult r = make_synth("mit67", dir.path(), 3, 8);
  EXPECT_FALSE(ends_with_newline(dir / "TrainImages.txt"));
  EXPECT_FALSE(ends_with_newline(dir / "TestImages.txt"));
  const auto train_lines = lines_of(dir / "TrainImages.txt");
  const auto test_lines = lines_of(dir / "TestImages.txt");
  EXPECT_EQ(static_cast<int64_t>(train_lines.size()), r.split_sizes.at("train"));
  EXPECT_EQ(train_lines.size() + test_lines.size(), 3u * (8 + synth_eval_per_class(8)));

  const Catalog train = open_catalog(spec("mit67", dir.path(), "train"));
  ASSERT_EQ(train.size(), train_lines.size());
  bool space = false, apostrophe = false;
  for (size_t i = 0; i < train.size(); ++i) {
    EXPECT_EQ(std::string(train.image_path(i)), train_lines[i]);
    const std::string cls = train_lines[i].substr(0, train_lines[i].find('/'));
    EXPECT_EQ(train.class_names()[train.label(i)], cls);
    EXPECT_TRUE(fs::exists(train.at(i).image)) << train.at(i).image;
    space = space || train_lines[i].find(' ') != std::string::npos;
    apostrophe = apostrophe || train_lines[i].find('\'') != std::string::npos;
  }
  EXPECT_TRUE(space);
  EXPECT_TRUE(apostrophe);
  std::vector<std::string> sorted = r.class_names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(train.class_names(), sorted);
  EXPECT_EQ(open_catalog(spec("mit67", dir.path(), "test")).size(), test_lines.size());
}

TEST(Mit67Catalog, HandWrittenQuirkyNames) {
  TempDir dir;
  write_text(dir / "Images/mall/shopping mall.jpg", "x");
  write_text(dir / "Images/nursery/baby's_room.jpg.jpg", "x");
  write_text(dir / "TrainImages.txt", "nursery/baby's_room.jpg.jpg\nmall/shopping mall.jpg");
  const Catalog c = open_catalog(spec("mit67", dir.path()));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"mall", "nursery"}));
  EXPECT_EQ(c.label(0), 1);
  EXPECT_EQ(c.label(1), 0);
  EXPECT_EQ(c.at(1).image, dir.path() / "Images" / "mall" / "shopping mall.jpg");
}

TEST(Mit67Catalog, BadLinesNameFileAndLine) {
  TempDir dir;
  write_text(dir / "Images/mall/a.jpg", "x");
  write_text(dir / "TrainImages.txt", "mall/a.jpg\nkitchen/b.jpg");
  std::string m = data_error(spec("mit67", dir.path()));
  EXPECT_CONTAINS(m, "TrainImages.txt:2:");
  EXPECT_CONTAINS(m, "class 'kitchen' is not a folder");
  write_text(dir / "TrainImages.txt", "mall/a.jpg\nmall/it's gone.jpg");
  m = data_error(spec("mit67", dir.path()));
  EXPECT_CONTAINS(m, "TrainImages.txt:2:");
  EXPECT_CONTAINS(m, "it's gone.jpg' does not exist");
  write_text(dir / "TrainImages.txt", "a.jpg");
  EXPECT_CONTAINS(data_error(spec("mit67", dir.path())),
                  "TrainImages.txt:1: expected '<class>/<file>'");
  EXPECT_CONTAINS(data_error(spec("mit67", dir.path(), "test")), "missing list file");
}

}  // namespace
}  // namespace scenery::data
