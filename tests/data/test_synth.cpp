#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <set>

#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
namespace fs = std::filesystem;
using scenery::testing::read_text;
using scenery::testing::TempDir;
using namespace scenery::data::testing;

SynthOptions tiny(const std::string& layout, const fs::path& out, uint64_t seed) {
  SynthOptions o;
  o.layout = layout;
  o.out = out;
  o.classes = 3;
  o.per_class = 2;
  o.seed = seed;
  o.size = 32;
  o.semantic_maps = layout == "ade20k";
  return o;
}

// Every file under `dir`, relative path -> content.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[e.path().lexically_relative(dir).string()] = read_text(e.path());
  }
  return files;
}

TEST(Synth, SameSeedGivesIdenticalFilesInEveryLayout) {
  for (const auto& layout : synth_layouts()) {
    TempDir a, b;
    write_synthetic_dataset(tiny(layout, a.path(), 5));
    {
      // One thread instead of many: scheduling must not change a byte.
      tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
      write_synthetic_dataset(tiny(layout, b.path(), 5));
    }
    const auto sa = snapshot(a.path()), sb = snapshot(b.path());
    EXPECT_GE(sa.size(), 9u) << layout;
    EXPECT_TRUE(sa == sb) << layout;
  }
}

TEST(Synth, DifferentSeedGivesDifferentData) {
  for (const auto& layout : synth_layouts()) {
    TempDir a, b;
    write_synthetic_dataset(tiny(layout, a.path(), 5));
    write_synthetic_dataset(tiny(layout, b.path(), 6));
    EXPECT_FALSE(snapshot(a.path()) == snapshot(b.path())) << layout;
  }
}

TEST(Synth, Places256ImagesAreSquareAndOtherLayoutsKeepShorterSide) {
  TempDir p, s;
  make_synth("places365", p.path(), 2, 2, 1, 40);
  const cv::Mat img = cv::imread((p / "val_256" / "Places365_val_00000001.jpg").string());
  EXPECT_EQ(img.cols, 40);
  EXPECT_EQ(img.rows, 40);
  make_synth("sun397", s.path(), 2, 4, 1, 40);
  bool non_square = false;
  for (const auto& e : fs::recursive_directory_iterator(s.path())) {
    if (e.path().extension() != ".jpg") continue;
    const cv::Mat m = cv::imread(e.path().string());
    EXPECT_EQ(std::min(m.cols, m.rows), 40);
    non_square = non_square || m.cols != m.rows;
  }
  EXPECT_TRUE(non_square);
}

TEST(Synth, AdeMasksAreEightBitObjectIdsWithUnlabelledOutlines) {
  TempDir dir;
  make_synth("ade20k", dir.path(), 3, 2, 9, 96);
  const fs::path id = "ADE_train_00000001";
  const cv::Mat mask =
      cv::imread((dir / "annotations/training" / id).string() + ".png", cv::IMREAD_UNCHANGED);
  const cv::Mat image = cv::imread((dir / "images/training" / id).string() + ".jpg");
  ASSERT_EQ(mask.type(), CV_8UC1);
  EXPECT_EQ(mask.size(), image.size());
  std::set<int> values(mask.begin<uint8_t>(), mask.end<uint8_t>());
  EXPECT_EQ(values.count(0), 1u);
  EXPECT_GE(values.size(), 4u);  // unlabelled + two stuff classes + at least one object
  EXPECT_LE(*values.rbegin(), 150);

  const std::string info = read_text(dir / "objectInfo150.csv");
  EXPECT_EQ(info.rfind("Idx,Ratio,Train,Val,Stuff,Name\n1,", 0), 0u);
  EXPECT_NE(info.back(), '\n');
  EXPECT_EQ(std::count(info.begin(), info.end(), '\n'), 150);
  EXPECT_NE(info.find(",windowpane;window\n"), std::string::npos);
}

TEST(Synth, SemanticMapsFollowTheValuePlusOneConventionWithOrderedScores) {
  TempDir dir;
  SynthOptions o = tiny("ade20k", dir.path(), 2);
  o.size = 64;
  write_synthetic_dataset(o);
  const std::string base = "training/ADE_train_00000001.png";
  const cv::Mat mask = cv::imread((dir / "annotations" / base).string(), cv::IMREAD_UNCHANGED);
  // imread gives B, G, R: channel 2 is the file's R = rank 1.
  const cv::Mat cls =
      cv::imread((dir / "noisy_annotations_RGB" / base).string(), cv::IMREAD_UNCHANGED);
  const cv::Mat score =
      cv::imread((dir / "noisy_scores_RGB" / base).string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(cls.type(), CV_8UC3);
  ASSERT_EQ(score.type(), CV_8UC3);
  int64_t labelled = 0, agree = 0;
  for (int y = 0; y < mask.rows; ++y) {
    for (int x = 0; x < mask.cols; ++x) {
      const auto c = cls.at<cv::Vec3b>(y, x);
      const auto s = score.at<cv::Vec3b>(y, x);
      EXPECT_LT(c[2], 150);
      EXPECT_NE(c[2], c[1]);
      ASSERT_GE(s[2], s[1]);
      ASSERT_GE(s[1], s[0]);
      ASSERT_LE(s[0] + s[1] + s[2], 255 + 3);
      const int truth = mask.at<uint8_t>(y, x);
      if (truth == 0) continue;
      ++labelled;
      agree += c[2] + 1 == truth || c[1] + 1 == truth;
    }
  }
  EXPECT_GT(labelled, 0);
  EXPECT_EQ(agree, labelled);  // the true class is always rank 1 or 2
}

// Nearest class centroid on tiny colour thumbnails: far above chance when
// the scene classes are really told apart by their content.
TEST(Synth, ScenesAreLearnableFromPixelsAndFromMasksAlone) {
  TempDir dir;
  const int classes = 5;
  make_synth("ade20k", dir.path(), classes, 16, 21, 64);
  const Catalog train = open_catalog(spec("ade20k", dir.path(), "train"));
  const Catalog val = open_catalog(spec("ade20k", dir.path(), "val"));
  const auto pixels = [](const Sample& s) {
    cv::Mat img = cv::imread(s.image.string()), small;
    cv::resize(img, small, cv::Size(6, 6), 0, 0, cv::INTER_AREA);
    small.convertTo(small, CV_32F);
    return small.reshape(1, 1).clone();
  };
  const auto objects = [](const Sample& s) {
    const cv::Mat m = cv::imread(s.mask.string(), cv::IMREAD_UNCHANGED);
    cv::Mat h = cv::Mat::zeros(1, 151, CV_32F);
    for (auto it = m.begin<uint8_t>(); it != m.end<uint8_t>(); ++it)
      h.at<float>(0, *it) += 1.f / m.total();
    return h;
  };
  for (int kind = 0; kind < 2; ++kind) {
    const auto feature = [&](const Sample& s) { return kind == 0 ? pixels(s) : objects(s); };
    std::vector<cv::Mat> centroid(classes);
    std::vector<int> count(classes, 0);
    for (size_t i = 0; i < train.size(); ++i) {
      const Sample s = train.at(i);
      const cv::Mat f = feature(s);
      if (centroid[s.label].empty()) centroid[s.label] = cv::Mat::zeros(f.size(), CV_32F);
      centroid[s.label] += f;
      ++count[s.label];
    }
    for (int c = 0; c < classes; ++c)
      centroid[c] /= count[c];
    int correct = 0;
    for (size_t i = 0; i < val.size(); ++i) {
      const Sample s = val.at(i);
      const cv::Mat f = feature(s);
      int best = 0;
      for (int c = 1; c < classes; ++c) {
        if (cv::norm(f, centroid[c]) < cv::norm(f, centroid[best])) best = c;
      }
      correct += best == s.label;
    }
    const double accuracy = static_cast<double>(correct) / val.size();
    std::printf("nearest-centroid accuracy from %s: %.2f (chance %.2f)\n",
                kind == 0 ? "pixels" : "masks", accuracy, 1.0 / classes);
    EXPECT_GT(accuracy, 0.7) << (kind == 0 ? "pixels" : "masks");
  }
}

TEST(Synth, EveryDifficultyIsDeterministic) {
  for (const char* difficulty : {"medium", "hard"}) {
    for (const char* layout : {"places365", "ade20k"}) {
      TempDir a, b;
      SynthOptions o = tiny(layout, a.path(), 5);
      o.difficulty = synth_difficulty(difficulty);
      write_synthetic_dataset(o);
      o.out = b.path();
      {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        write_synthetic_dataset(o);
      }
      EXPECT_TRUE(snapshot(a.path()) == snapshot(b.path())) << layout << " " << difficulty;
    }
  }
  try {
    synth_difficulty("extreme");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_CONTAINS(e.what(), "easy, medium, hard");
  }
}

std::set<int> intersect(const std::set<int>& a, const std::set<int>& b) {
  std::set<int> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(both, both.begin()));
  return both;
}

// The mask ids that cover at least 0.5 % of most (>= 75 %) images of each
// class: its stuff and its own objects, not the clutter.
std::vector<std::set<int>> frequent_ids(const Catalog& c, int classes) {
  std::vector<std::map<int, int>> seen(static_cast<size_t>(classes));
  std::vector<int> images(static_cast<size_t>(classes), 0);
  for (size_t i = 0; i < c.size(); ++i) {
    const Sample s = c.at(i);
    const cv::Mat m = cv::imread(s.mask.string(), cv::IMREAD_UNCHANGED);
    std::map<int, int> count;
    for (auto it = m.begin<uint8_t>(); it != m.end<uint8_t>(); ++it)
      ++count[*it];
    for (const auto& [id, n] : count)
      if (id != 0 && n >= 0.005 * static_cast<double>(m.total())) ++seen[s.label][id];
    ++images[s.label];
  }
  std::vector<std::set<int>> out(static_cast<size_t>(classes));
  for (int k = 0; k < classes; ++k)
    for (const auto& [id, n] : seen[k])
      if (n >= 0.75 * images[k]) out[k].insert(id);
  return out;
}

// Hard: classes c = 3f + m. Members of a family share their stuff and differ
// in their objects, which come from look-alike groups (id - 1) % 3 == m;
// families have the same semantics member by member and differ in the look
// of their stuff only.
TEST(Synth, HardScenesAreAmbiguousInRgbWithinAFamilyAndInSemanticsAcross) {
  TempDir dir;
  SynthOptions o;
  o.layout = "ade20k";
  o.out = dir.path();
  o.classes = 6;
  o.per_class = 12;
  o.seed = 4;
  o.size = 64;
  o.semantic_maps = true;
  o.difficulty = synth_difficulty("hard");
  write_synthetic_dataset(o);
  const Catalog c = open_catalog(spec("ade20k", dir.path(), "train"));
  const auto ids = frequent_ids(c, 6);
  for (int m = 0; m < 3; ++m) {
    EXPECT_EQ(ids[m], ids[m + 3]) << "member " << m << ": the same semantics in both families";
    for (int other = 0; other < 3; ++other) {
      if (other == m) continue;
      const std::set<int> both = intersect(ids[m], ids[other]);
      EXPECT_FALSE(both.empty()) << "family members share their stuff";
      EXPECT_NE(ids[m], ids[other]) << "family members differ in their objects";
      for (int id : ids[m]) {
        if (!both.count(id)) {
          EXPECT_EQ((id - 1) % 3, m) << "object " << id << " of member " << m;
        }
      }
    }
  }
  // The stuff every class shares looks different in the two families.
  std::set<int> everywhere = ids[0];
  for (int k = 1; k < 6; ++k)
    everywhere = intersect(everywhere, ids[k]);
  ASSERT_FALSE(everywhere.empty());
  const int stuff = *everywhere.begin();
  cv::Vec3d sum[2] = {{0, 0, 0}, {0, 0, 0}};
  double n[2] = {0, 0};
  int agree = 0, labelled = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const Sample s = c.at(i);
    const cv::Mat m = cv::imread(s.mask.string(), cv::IMREAD_UNCHANGED);
    const cv::Mat img = cv::imread(s.image.string());
    const cv::Mat top3 = cv::imread(s.semantic_classes.string(), cv::IMREAD_UNCHANGED);
    const int family = static_cast<int>(s.label) / 3;
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x) {
        const int id = m.at<uint8_t>(y, x);
        if (id == stuff) {
          const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
          sum[family] += cv::Vec3d(p[0], p[1], p[2]);
          ++n[family];
        }
        if (id != 0) {  // the top-3 maps' first rank (file R = Mat channel 2) is the mask, mostly
          ++labelled;
          agree += top3.at<cv::Vec3b>(y, x)[2] + 1 == id;
        }
      }
  }
  const cv::Vec3d mean0 = sum[0] / n[0], mean1 = sum[1] / n[1];
  EXPECT_GT(cv::norm(mean0 - mean1), 20.0) << mean0 << " vs " << mean1;
  EXPECT_GT(static_cast<double>(agree) / labelled, 0.85);
}

// The frequent ids of each of 4 medium classes, with the classes' family size
// (0: medium's own, 2).
std::vector<std::set<int>> medium_class_ids(int family_size) {
  TempDir dir;
  SynthOptions o;
  o.layout = "ade20k";
  o.out = dir.path();
  o.classes = 4;
  o.per_class = 12;
  o.seed = 9;
  o.size = 64;
  o.difficulty = synth_difficulty("medium");
  if (family_size > 0) o.difficulty.family_size = family_size;
  write_synthetic_dataset(o);
  return frequent_ids(open_catalog(spec("ade20k", dir.path(), "train")), 4);
}

// Medium: families of two share their stuff and never an object class.
TEST(Synth, MediumFamiliesShareStuffAndNeverAnObject) {
  const auto ids = medium_class_ids(0);
  for (int f = 0; f < 2; ++f) {
    EXPECT_EQ(intersect(ids[2 * f], ids[2 * f + 1]).size(), 2u)
        << "family " << f << ": exactly the two stuff classes";
    EXPECT_GT(ids[2 * f].size(), 2u);
    EXPECT_GT(ids[2 * f + 1].size(), 2u);
  }
}

// `--family-size N` with N = classes: one family, told apart by objects alone
// (the data of the detectors-emerge test).
TEST(Synth, OneFamilyOfEveryClassSharesStuffAndNeverAnObject) {
  const auto ids = medium_class_ids(4);
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b)
      EXPECT_EQ(intersect(ids[a], ids[b]).size(), 2u)
          << "classes " << a << " and " << b << ": exactly the two stuff classes";
}

TEST(Synth, BadOptionsAreUsageErrors) {
  TempDir dir;
  SynthOptions o = tiny("imagenet", dir.path(), 1);
  try {
    write_synthetic_dataset(o);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_CONTAINS(e.what(), "places365, places365-easy, places205, sun397, mit67, ade20k");
  }
  o.layout = "mit67";
  o.classes = 68;
  EXPECT_THROW(write_synthetic_dataset(o), UsageError);
  o.classes = 2;
  o.per_class = 0;
  EXPECT_THROW(write_synthetic_dataset(o), UsageError);
  o.per_class = 1;
  o.semantic_maps = true;
  EXPECT_THROW(write_synthetic_dataset(o), UsageError);
}

TEST(Synth, ReportsClassNamesInLabelOrderAsTheCatalogDoes) {
  for (const auto& layout : synth_layouts()) {
    TempDir dir;
    const SynthResult r = write_synthetic_dataset(tiny(layout, dir.path(), 8));
    const Catalog c = open_catalog(spec(layout, dir.path()));
    EXPECT_EQ(r.class_names, c.class_names()) << layout;
    EXPECT_EQ(r.split_sizes.at("train"), static_cast<int64_t>(c.size())) << layout;
    if (layout == "places365" || layout == "ade20k") {
      EXPECT_EQ(static_cast<int64_t>(r.test_labels.size()), r.split_sizes.at("test")) << layout;
      std::map<int, int> per_class;
      for (int label : r.test_labels)
        ++per_class[label];
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(per_class[c], synth_eval_per_class(2)) << layout;
    } else {
      EXPECT_TRUE(r.test_labels.empty()) << layout;
    }
  }
}

}  // namespace
}  // namespace scenery::data
