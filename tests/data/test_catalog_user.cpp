#include <gtest/gtest.h>

#include "core/config.h"
#include "data/data_options.h"
#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(FolderCatalog, ClassesAreSortedFoldersAndSplitSubfolderIsUsed) {
  TempDir dir;
  write_text(dir / "train/zebra/b.jpg", "x");
  write_text(dir / "train/zebra/a.png", "x");
  write_text(dir / "train/apple/nested/c.JPG", "x");
  write_text(dir / "train/apple/notes.txt", "not an image");
  const Catalog c = open_catalog(spec("folder", dir.path(), "train"));
  EXPECT_EQ(c.class_names(), (std::vector<std::string>{"apple", "zebra"}));
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(std::string(c.image_path(0)), "train/apple/nested/c.JPG");
  EXPECT_EQ(std::string(c.image_path(1)), "train/zebra/a.png");
  EXPECT_EQ(c.label(2), 1);
  EXPECT_TRUE(fs::exists(c.at(2).image));
}

TEST(FolderCatalog, MissingSplitFolderBesideOtherSplitsIsADataError) {
  TempDir dir;
  write_text(dir / "train/apple/a.jpg", "x");
  write_text(dir / "val/apple/b.jpg", "x");
  EXPECT_CONTAINS(data_error(spec("folder", dir.path(), "test")), "no test/ folder");
}

TEST(FolderCatalog, EmptyTreeIsADataError) {
  TempDir dir;
  fs::create_directories(dir / "a");
  EXPECT_CONTAINS(data_error(spec("folder", dir.path())), "empty dataset");
}

TEST(ListCatalog, PathsWithSpacesTakeTheLastTokenAsLabel) {
  TempDir dir;
  write_text(dir / "img/my photo 1.jpg", "x");
  write_text(dir / "img/b.jpg", "x");
  write_text(dir / "train.txt", "img/my photo 1.jpg 2\nimg/b.jpg\t0\n");
  const Catalog c = open_catalog(spec("list", dir.path()));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(std::string(c.image_path(0)), "img/my photo 1.jpg");
  EXPECT_EQ(c.label(0), 2);
  EXPECT_EQ(c.num_classes(), 3);
}

TEST(ListCatalog, ToleratesByteOrderMarkAndCrlf) {
  TempDir dir;
  write_text(dir / "a.jpg", "x");
  write_text(dir / "train.txt",
             "\xEF\xBB\xBF"
             "a.jpg 1\r\n");
  const Catalog c = open_catalog(spec("list", dir.path()));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(std::string(c.image_path(0)), "a.jpg");
  EXPECT_EQ(c.label(0), 1);
}

TEST(ListCatalog, NamedLabelsUseTheClassFile) {
  TempDir dir;
  write_text(dir / "a.jpg", "x");
  write_text(dir / "b.jpg", "x");
  write_text(dir / "classes.txt", "cat\ndog\n");
  write_text(dir / "mine.txt", "a.jpg dog\nb.jpg cat");
  CatalogSpec s = spec("list", dir.path());
  s.list = "mine.txt";
  s.class_file = "classes.txt";
  const Catalog c = open_catalog(s);
  EXPECT_EQ(c.label(0), 1);
  EXPECT_EQ(c.label(1), 0);
  write_text(dir / "mine.txt", "a.jpg dog\nb.jpg bird");
  const std::string m = data_error(s);
  EXPECT_CONTAINS(m, "mine.txt:2:");
  EXPECT_CONTAINS(m, "class 'bird' is not in the class list");
  write_text(dir / "mine.txt", "a.jpg 5");
  EXPECT_CONTAINS(data_error(s), "mine.txt:1: label 5 out of range: expected 0..1");
}

TEST(ListCatalog, MissingFileAndMalformedLineNameFileAndLine) {
  TempDir dir;
  write_text(dir / "a.jpg", "x");
  write_text(dir / "train.txt", "a.jpg 0\nb.jpg 1\n");
  EXPECT_CONTAINS(data_error(spec("list", dir.path())), "train.txt:2: listed file");
  write_text(dir / "train.txt", "a.jpg 0\nlonely\n");
  EXPECT_CONTAINS(data_error(spec("list", dir.path())),
                  "train.txt:2: expected '<path> <label>', got 'lonely'");
  EXPECT_CONTAINS(data_error(spec("list", dir.path(), "val")), "missing list file");
}

TEST(CatalogFactory, UnknownDatasetListsTheValidOnes) {
  TempDir dir;
  try {
    open_catalog(spec("imagenet", dir.path()));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "invalid value 'imagenet' for data.dataset: expected one of");
    EXPECT_CONTAINS(e.what(),
                    "places365, places365-easy, places205, sun397, mit67, ade20k, folder, list");
  }
  EXPECT_THROW(open_catalog(spec("sun397", "")), ConfigError);
  EXPECT_THROW(open_catalog(spec("sun397", dir / "nope")), DataError);
}

TEST(CatalogFactory, SpecComesFromDataOptions) {
  Config config("t", "t");
  add_data_options(config);
  config.parse(std::vector<std::string>{"--data.dataset", "sun397", "--data.root", "/x",
                                        "--data.split", "test", "--data.partition", "4",
                                        "--data.large"});
  const CatalogSpec s = catalog_spec_from_config(config);
  EXPECT_EQ(s.dataset, "sun397");
  EXPECT_EQ(s.root, fs::path("/x"));
  EXPECT_EQ(s.split, "test");
  EXPECT_EQ(s.partition, 4);
  EXPECT_TRUE(s.large);
  EXPECT_TRUE(s.semantic_maps);
}

}  // namespace
}  // namespace scenery::data

namespace scenery::data {
namespace {

// Found by fuzz_catalog: a numeric label of 4445644456 made the list reader
// name 4.4 billion classes ("0", "1", ...) before anything else; now refused
// naming the line.
TEST(ListCatalog, AHugeClassIndexIsRefusedNotTurnedIntoBillionsOfClasses) {
  scenery::testing::TempDir dir;
  scenery::testing::write_text(dir / "img/a.jpg", "x");
  scenery::testing::write_text(dir / "val.txt", "img/a.jpg 4445644456\n");
  const std::string msg = testing::data_error(testing::spec("list", dir.path(), "val"));
  EXPECT_NE(msg.find("val.txt:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 4445644456 above 999999"), std::string::npos) << msg;
}

}  // namespace
}  // namespace scenery::data
