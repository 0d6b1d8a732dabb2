#include <gtest/gtest.h>

#include <algorithm>
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

TEST(Ade20kCatalog, ScenesAreIndicesInSortedUniqueNamesAndMasksArePaired) {
  TempDir dir;
  make_synth("ade20k", dir.path(), 4, 3);
  // Independent truth from sceneCategories.txt.
  std::map<std::string, std::string> scene_of;
  std::set<std::string> unique;
  for (const auto& line : lines_of(dir / "sceneCategories.txt")) {
    const auto space = line.find(' ');
    scene_of[line.substr(0, space)] = line.substr(space + 1);
    unique.insert(line.substr(space + 1));
  }
  const std::vector<std::string> sorted(unique.begin(), unique.end());
  const Catalog train = open_catalog(spec("ade20k", dir.path(), "train"));
  ASSERT_EQ(train.size(), 12u);
  EXPECT_EQ(train.class_names(), sorted);
  EXPECT_TRUE(train.has_masks());
  EXPECT_FALSE(train.has_semantic_maps());
  ASSERT_EQ(train.object_names().size(), 150u);
  EXPECT_EQ(train.object_names()[0], "wall");
  for (size_t i = 0; i < train.size(); ++i) {
    const Sample s = train.at(i);
    const std::string id = s.image.stem().string();
    EXPECT_EQ(id.rfind("ADE_train_", 0), 0u);
    EXPECT_EQ(train.class_names()[s.label], scene_of.at(id));
    EXPECT_EQ(s.mask, dir.path() / "annotations" / "training" / (id + ".png"));
    EXPECT_TRUE(fs::exists(s.mask));
  }
  const Catalog val = open_catalog(spec("ade20k", dir.path(), "val"));
  EXPECT_EQ(val.size(), 4u * synth_eval_per_class(3));
  const Catalog test = open_catalog(spec("ade20k", dir.path(), "test"));
  EXPECT_EQ(test.size(), 4u * synth_eval_per_class(3));
  EXPECT_FALSE(test.has_masks());
  EXPECT_EQ(test.label(0), -1);
  EXPECT_EQ(test.at(0).image.filename().string(), "ADE_test_00000001.jpg");
}

TEST(Ade20kCatalog, FillsSemanticMapsWhenPresent) {
  TempDir dir;
  SynthOptions o;
  o.layout = "ade20k";
  o.out = dir.path();
  o.classes = 2;
  o.per_class = 2;
  o.size = 48;
  o.semantic_maps = true;
  write_synthetic_dataset(o);
  for (const char* split : {"train", "val", "test"}) {
    const Catalog c = open_catalog(spec("ade20k", dir.path(), split));
    EXPECT_TRUE(c.has_semantic_maps()) << split;
    const Sample s = c.at(0);
    EXPECT_TRUE(fs::exists(s.semantic_classes)) << s.semantic_classes;
    EXPECT_TRUE(fs::exists(s.semantic_scores)) << s.semantic_scores;
    EXPECT_EQ(s.semantic_classes.filename().string(), s.image.stem().string() + ".png");
    EXPECT_NE(s.semantic_classes.string().find("noisy_annotations_RGB"), std::string::npos);
  }
  CatalogSpec off = spec("ade20k", dir.path());
  off.semantic_maps = false;
  EXPECT_FALSE(open_catalog(off).has_semantic_maps());
  // A semantic map folder with a file missing is named with the scene line.
  fs::remove(dir / "noisy_scores_RGB" / "training" / "ADE_train_00000002.png");
  const std::string m = data_error(spec("ade20k", dir.path()));
  EXPECT_CONTAINS(m, "sceneCategories.txt:2:");
  EXPECT_CONTAINS(m, "ADE_train_00000002.png");
}

TEST(Ade20kCatalog, MissingAnnotationNamesSceneLine) {
  TempDir dir;
  make_synth("ade20k", dir.path(), 2, 2, 1, 32);
  fs::remove(dir / "annotations" / "training" / "ADE_train_00000003.png");
  const std::string m = data_error(spec("ade20k", dir.path()));
  EXPECT_CONTAINS(m, "sceneCategories.txt:3:");
  EXPECT_CONTAINS(m, "annotations/training/ADE_train_00000003.png");
}

TEST(Ade20kCatalog, BadCategoryFilesAreDataErrors) {
  TempDir dir;
  make_synth("ade20k", dir.path(), 2, 2, 1, 32);
  write_text(dir / "sceneCategories.txt", "ADE_train_00000001 bathroom\nADE_train_00000002\n");
  EXPECT_CONTAINS(data_error(spec("ade20k", dir.path())),
                  "sceneCategories.txt:2: expected '<image id> <scene name>'");
  write_text(dir / "objectInfo150.csv", "Idx,Name\n1,wall");
  EXPECT_CONTAINS(data_error(spec("ade20k", dir.path())), "objectInfo150.csv:1: expected header");
  write_text(dir / "objectInfo150.csv",
             "Idx,Ratio,Train,Val,Stuff,Name\n1,0.1,1,1,1,wall\n3,0.1,1,1,1,sky");
  EXPECT_CONTAINS(data_error(spec("ade20k", dir.path())),
                  "objectInfo150.csv:3: expected Idx 2, got 3");
  fs::remove(dir / "objectInfo150.csv");
  EXPECT_CONTAINS(data_error(spec("ade20k", dir.path())), "missing category file");
}

}  // namespace
}  // namespace scenery::data
