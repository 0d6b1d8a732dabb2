#include "eval/places_submission.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/classification_meter.h"
#include "eval/eval_test_helpers.h"
#include "support/test_support.h"

namespace scenery::eval {
namespace {
using testing::read_text;
using testing::TempDir;
using testing::write_text;

TEST(PlacesSubmission, WritesFiveLabelsByDescendingScoreSortedByName) {
  TempDir dir;
  PlacesSubmissionWriter w(7);
  auto s = torch::tensor({{0.f, 6.f, 5.f, 4.f, 3.f, 2.f, 1.f},    // 1 2 3 4 5
                          {1.f, 1.f, 0.f, 2.f, 1.f, 0.f, 0.f}});  // 3, then ties 0 1 4, then 2
  w.add({"Places365_test_00000002.jpg", "Places365_test_00000001.jpg"}, s);
  w.write(dir / "sub.txt");
  EXPECT_EQ(read_text(dir / "sub.txt"),
            "Places365_test_00000001.jpg 3 0 1 4 2\n"
            "Places365_test_00000002.jpg 1 2 3 4 5\n");
}

TEST(PlacesSubmission, DuplicateImageIsRefusedAtWrite) {
  TempDir dir;
  PlacesSubmissionWriter w(5);
  w.add({"a.jpg", "a.jpg"}, torch::rand({2, 5}));
  EXPECT_NE(error_of([&] { w.write(dir / "s.txt"); }).find("'a.jpg' was predicted twice"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "s.txt"));
}

TEST(PlacesSubmission, ScorerReproducesTheMeterOnWriterOutput) {
  TempDir dir;
  torch::manual_seed(1);
  const int64_t n = 200, c = 20;
  const auto scores = torch::randn({n, c});
  const auto labels = torch::randint(0, c, {n}, torch::kLong);
  std::vector<std::string> names;
  std::string gt;
  for (int64_t i = 0; i < n; ++i) {
    names.push_back(fmt::format("Places365_val_{:08}.jpg", n - i));  // unsorted on purpose
    gt += fmt::format("{} {}\n", names.back(), labels[i].item<int64_t>());
  }
  write_text(dir / "gt.txt", gt);
  PlacesSubmissionWriter w(c);
  w.add(names, scores);
  w.write(dir / "sub.txt");
  const PlacesScore score = score_places_submission(dir / "sub.txt", dir / "gt.txt", c);

  ClassificationMeter meter(c, {1, 2, 3, 4, 5});
  meter.add(scores, labels);
  EXPECT_EQ(score.images, n);
  for (int k = 1; k <= 5; ++k)
    EXPECT_DOUBLE_EQ(score.error[k - 1], 1.0 - meter.topk(k)) << k;
}

TEST(PlacesSubmission, ScorerRejectsMalformedSubmissionsNamingTheLine) {
  TempDir dir;
  write_text(dir / "gt.txt", "a.jpg 1\nb.jpg 2\n");
  auto sub = [&](const std::string& text) {
    write_text(dir / "sub.txt", text);
    return error_of([&] { score_places_submission(dir / "sub.txt", dir / "gt.txt", 10); });
  };
  EXPECT_NE(sub("a.jpg 1 2 3 4 5\na.jpg 1 2 3 4 5\n")
                .find("sub.txt:2: duplicate entry for "
                      "'a.jpg' (first on line 1)"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 3 4\n")
                .find("sub.txt:1: expected 'a.jpg' followed by exactly 5 "
                      "labels, got 4"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 3 4 10\n").find("sub.txt:1: label 10 is outside 0..9"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 x 4 5\n").find("sub.txt:1: label 'x' is not an integer"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 3 4 5\nb.jpg 7 2 3 2 5\n")
                .find("sub.txt:2: label 2 of 'b.jpg' repeated (positions 2 and 4)"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 3 4 5\n")
                .find("has 1 lines but the ground truth has 2 images; "
                      "missing: b.jpg"),
            std::string::npos);
  EXPECT_NE(sub("a.jpg 1 2 3 4 5\nb.jpg 1 2 3 4 5\nc.jpg 1 2 3 4 5\n")
                .find("sub.txt:3: 'c.jpg' is not in the ground truth"),
            std::string::npos);
}

TEST(PlacesSubmission, ScoreIsHandCheckable) {
  TempDir dir;
  write_text(dir / "gt.txt", "a.jpg 1\nb.jpg 2\nc.jpg 3\nd.jpg 4");  // no trailing newline
  write_text(dir / "sub.txt",
             "a.jpg 1 0 5 6 7\n"    // top-1 hit
             "b.jpg 0 2 5 6 7\n"    // top-2 hit
             "c.jpg 0 1 5 6 3\n"    // top-5 hit
             "d.jpg 0 1 5 6 7\n");  // miss
  const auto s = score_places_submission(dir / "sub.txt", dir / "gt.txt", 10);
  EXPECT_DOUBLE_EQ(s.error[0], 0.75);
  EXPECT_DOUBLE_EQ(s.error[1], 0.5);
  EXPECT_DOUBLE_EQ(s.error[2], 0.5);
  EXPECT_DOUBLE_EQ(s.error[3], 0.5);
  EXPECT_DOUBLE_EQ(s.error[4], 0.25);
}

}  // namespace
}  // namespace scenery::eval
