#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::TempDir;
using scenery::testing::write_text;
using namespace scenery::data::testing;

TEST(Places365EasyCatalog, SortedDashedFolderNamesGiveOfficialIndices) {
  TempDir dir;
  make_synth("places365-easy", dir.path(), 6, 3, /*seed=*/3);
  // The generator always includes a three-level name, so one folder is dashed.
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(dir / "places365_standard" / "train")) {
    folders.push_back(e.path().filename().string());
  }
  std::sort(folders.begin(), folders.end());
  ASSERT_EQ(folders.size(), 6u);
  EXPECT_TRUE(std::any_of(folders.begin(), folders.end(),
                          [](const std::string& f) { return f.find('-') != std::string::npos; }));

  const Catalog train = open_catalog(spec("places365-easy", dir.path(), "train"));
  ASSERT_EQ(train.size(), 18u);
  for (size_t c = 0; c < folders.size(); ++c) {
    std::string display = folders[c];
    std::replace(display.begin(), display.end(), '-', '/');
    EXPECT_EQ(train.class_names()[c], display);
  }
  std::map<int64_t, int> count;
  for (size_t i = 0; i < train.size(); ++i) {
    ++count[train.label(i)];
    EXPECT_EQ(train.at(i).image.parent_path().filename().string(), folders[train.label(i)]);
  }
  for (int c = 0; c < 6; ++c)
    EXPECT_EQ(count[c], 3);

  // The root may also be the places365_standard folder itself.
  const Catalog val = open_catalog(spec("places365-easy", dir / "places365_standard", "val"));
  EXPECT_EQ(val.size(), 6u * synth_eval_per_class(3));
  EXPECT_EQ(val.class_names(), train.class_names());
}

TEST(Places365EasyCatalog, ClassNamesMatchTheStandardLayout) {
  TempDir easy, standard;
  make_synth("places365-easy", easy.path(), 5, 2, 11);
  make_synth("places365", standard.path(), 5, 2, 11);
  EXPECT_EQ(open_catalog(spec("places365-easy", easy.path())).class_names(),
            open_catalog(spec("places365", standard.path())).class_names());
}

TEST(Places365EasyCatalog, MissingSplitFolderIsADataError) {
  TempDir dir;
  fs::create_directories(dir / "places365_standard" / "train");
  EXPECT_CONTAINS(data_error(spec("places365-easy", dir.path(), "val")), "missing image folder");
  EXPECT_CONTAINS(data_error(spec("places365-easy", dir.path(), "train")), "no class folder");
}

}  // namespace
}  // namespace scenery::data
