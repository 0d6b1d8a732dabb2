#include <gtest/gtest.h>

#include <map>
#include <set>

#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(Sun397Catalog, ReadsEveryPartitionWithDisjointTrainAndTest) {
  TempDir dir;
  make_synth("sun397", dir.path(), 4, 3);
  const auto classes = lines_of(dir / "ClassName.txt");
  ASSERT_EQ(classes.size(), 4u);
  for (int p : {1, 10}) {
    CatalogSpec s = spec("sun397", dir.path(), "train");
    s.partition = p;
    const Catalog train = open_catalog(s);
    s.split = "test";
    const Catalog test = open_catalog(s);
    ASSERT_EQ(train.size(), 12u);
    ASSERT_EQ(test.size(), 12u);
    std::set<std::string> seen;
    std::map<int64_t, int> count;
    for (size_t i = 0; i < train.size(); ++i) {
      const std::string path(train.image_path(i));
      EXPECT_EQ("/" + path.substr(0, path.rfind('/')), classes[train.label(i)]);
      seen.insert(path);
      ++count[train.label(i)];
    }
    for (int c = 0; c < 4; ++c)
      EXPECT_EQ(count[c], 3);
    for (size_t i = 0; i < test.size(); ++i)
      EXPECT_EQ(seen.count(std::string(test.image_path(i))), 0u);
  }
  // The parent of the SUN397 folder works as the root too.
  TempDir parent;
  fs::rename(dir.path(), parent / "SUN397");
  fs::create_directories(dir.path());
  EXPECT_EQ(open_catalog(spec("sun397", parent.path())).size(), 12u);
}

TEST(Sun397Catalog, PartitionsAreDifferentSplits) {
  TempDir dir;
  make_synth("sun397", dir.path(), 2, 6);
  EXPECT_NE(lines_of(dir / "Training_01.txt"), lines_of(dir / "Training_02.txt"));
}

TEST(Sun397Catalog, ClassNotInClassNameTxtNamesFileAndLine) {
  TempDir dir;
  write_text(dir / "ClassName.txt", "/a/abbey\n/b/bus_station/indoor\n");
  write_text(dir / "a/abbey/sun_a.jpg", "x");
  write_text(dir / "Training_01.txt", "/a/abbey/sun_a.jpg\n/a/airport/sun_b.jpg\n");
  const std::string m = data_error(spec("sun397", dir.path()));
  EXPECT_CONTAINS(m, "Training_01.txt:2:");
  EXPECT_CONTAINS(m, "class '/a/airport' is not in");
}

TEST(Sun397Catalog, MissingListedImageNamesFileAndLine) {
  TempDir dir;
  write_text(dir / "ClassName.txt", "/a/abbey\n/b/bus_station/indoor");
  write_text(dir / "Partitions" / "Testing_03.txt", "/b/bus_station/indoor/sun_zz.jpg");
  CatalogSpec s = spec("sun397", dir.path(), "test");
  s.partition = 3;
  const std::string m = data_error(s);
  EXPECT_CONTAINS(m, "Testing_03.txt:1:");
  EXPECT_CONTAINS(m, "b/bus_station/indoor/sun_zz.jpg");
  EXPECT_CONTAINS(m, "does not exist");
}

TEST(Sun397Catalog, MalformedLinesAndMissingFilesAreDataErrors) {
  TempDir dir;
  EXPECT_CONTAINS(data_error(spec("sun397", dir.path())), "missing category file");
  write_text(dir / "ClassName.txt", "/a/abbey\nabbey two\n");
  EXPECT_CONTAINS(data_error(spec("sun397", dir.path())), "ClassName.txt:2:");
  write_text(dir / "ClassName.txt", "/a/abbey\n");
  EXPECT_CONTAINS(data_error(spec("sun397", dir.path())), "missing list file");
  write_text(dir / "Training_01.txt", "abbey.jpg\n");
  EXPECT_CONTAINS(data_error(spec("sun397", dir.path())),
                  "Training_01.txt:1: expected '/x/class/file.jpg'");
  write_text(dir / "Training_01.txt", "");
  EXPECT_CONTAINS(data_error(spec("sun397", dir.path())), "empty dataset");
}

TEST(Sun397Catalog, PartitionOutOfRangeIsAConfigError) {
  TempDir dir;
  CatalogSpec s = spec("sun397", dir.path());
  s.partition = 11;
  EXPECT_THROW(open_catalog(s), ConfigError);
}

}  // namespace
}  // namespace scenery::data
