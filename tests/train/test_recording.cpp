// The run's watchable record (train/recording_observer.h) read back by the
// independent reader (tests/observe/read_events.py): every CRC checked, the
// scalars against metrics.csv and the run's own reports, pictures as PNGs.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "support/events_reader.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

using observe::testing::Fields;
using observe::testing::of_kind;
using observe::testing::read_events;

// One metrics.jsonl line: its numbers by key.
std::map<std::string, double> parse_json_line(const std::string& line) {
  static const std::regex member("\"([^\"]+)\":(-?[0-9.eE+-]+)");
  std::map<std::string, double> out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), member);
       it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = std::stod((*it)[2]);
  return out;
}

// What TensorBoard shows of a tag: the values of every file in name order,
// where a restart at step S drops the values at steps >= S read before it.
std::map<int64_t, double> shown_curve(const std::vector<Fields>& lines, const std::string& tag) {
  std::map<int64_t, double> curve;
  for (const auto& f : lines) {
    if (f[0] == "restart") curve.erase(curve.lower_bound(std::stoll(f[1])), curve.end());
    if (f[0] == "scalar" && f[2] == tag) {
      EXPECT_EQ(curve.count(std::stoll(f[1])), 0u) << tag << " twice at step " << f[1];
      curve[std::stoll(f[1])] = std::stod(f[3]);
    }
  }
  return curve;
}

// 24 images, batches of 8: 3 optimizer steps per epoch, 2 epochs.
std::vector<std::string> recorded_args(const fs::path& data, const fs::path& run) {
  return with(tiny_args(data, run),
              {"--log.every", "1", "--train.clip_grad_norm", "100", "--log.examples", "2"});
}

TEST(Recording, AShortRunRecordsEveryStepEpochAndPictureAsItReportsThem) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 6, 64, 5);
  const auto run = dir / "run";
  const auto result = train(recorded_args(dir / "data", run));
  ASSERT_EQ(result.iteration, 6);
  const auto lines = read_events(run);
  ASSERT_EQ(of_kind(lines, "file").size(), 1u);
  EXPECT_EQ(lines[1][0], "file_version");

  // Every step's scalars, at steps 1..6.
  for (const char* tag :
       {"train/loss", "train/lr", "train/images_per_s", "train/data_wait", "train/grad_norm"}) {
    const auto curve = shown_curve(lines, tag);
    ASSERT_EQ(curve.size(), 6u) << tag;
    EXPECT_EQ(curve.begin()->first, 1);
    EXPECT_EQ(curve.rbegin()->first, 6);
  }
  for (const auto& [step, norm] : shown_curve(lines, "train/grad_norm"))
    EXPECT_GT(norm, 0) << step;

  // Epoch ends at steps 3 and 6: metrics.csv's rows, to float32 precision.
  const auto csv = read_lines(run / "metrics.csv");
  ASSERT_EQ(csv.size(), 3u);
  const std::vector<std::pair<std::string, size_t>> columns = {
      {"epoch/train_loss", 1}, {"epoch/lr", 2}, {"val/top1", 3}, {"val/top5", 4}, {"val/mca", 5}};
  for (const auto& [tag, column] : columns) {
    const auto curve = shown_curve(lines, tag);
    ASSERT_EQ(curve.size(), 2u) << tag;
    EXPECT_NEAR(curve.at(3), csv_column(csv[1], column), 1e-6) << tag;
    EXPECT_NEAR(curve.at(6), csv_column(csv[2], column), 1e-6) << tag;
  }
  EXPECT_NEAR(shown_curve(lines, "val/top1").at(6), result.last_metrics.at("top1"), 1e-7);

  // Pictures at each validation, PNGs the reader inflated.
  for (const std::string tag : {"val/confusion", "val/example_0", "val/example_1"}) {
    const auto images = of_kind(lines, "image", tag);
    ASSERT_EQ(images.size(), 2u) << tag;
    EXPECT_EQ(images[0][1], "3");
    EXPECT_EQ(images[1][1], "6");
    EXPECT_EQ(images[0][5], "3");           // RGB
    EXPECT_EQ(images[0][3], images[0][6]);  // the Image message's width is the PNG's
    EXPECT_EQ(images[0][4], images[0][7]);
    EXPECT_GE(std::stoi(images[0][3]), 224);  // 48-px crops are enlarged to be seen
  }
  EXPECT_TRUE(of_kind(lines, "image", "val/example_2").empty());  // log.examples 2
  const auto config = of_kind(lines, "text", "config");
  ASSERT_EQ(config.size(), 1u);
  EXPECT_CONTAINS(config[0][4], "[train]");
  EXPECT_CONTAINS(config[0][4], "clip_grad_norm = 100");

  // metrics.jsonl: the same scalars, one line per record, agreeing with metrics.csv.
  const auto json = read_lines(run / "metrics.jsonl");
  ASSERT_EQ(json.size(), 6u + 2u);
  int epoch_lines = 0;
  for (const auto& line : json) {
    const auto values = parse_json_line(line);
    if (!values.count("epoch/train_loss")) continue;
    const size_t row = static_cast<size_t>(values.at("epoch"));
    EXPECT_EQ(values.at("step"), 3.0 * row);
    EXPECT_NEAR(values.at("epoch/train_loss"), csv_column(csv[row], 1), 1e-6);
    EXPECT_NEAR(values.at("val/top1"), csv_column(csv[row], 3), 1e-6);
    ++epoch_lines;
  }
  EXPECT_EQ(epoch_lines, 2);
}

TEST(Recording, AResumedRunContinuesEveryCurveWithoutGoingBack) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 6, 64, 5);
  const auto whole = train(recorded_args(dir / "data", dir / "a"));
  ASSERT_FALSE(whole.interrupted);
  int attempts = 0;
  for (bool interrupted = true; interrupted && attempts < 5; ++attempts) {
    // One second apart: event file names begin with their creation time.
    if (attempts > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    interrupted =
        train(with(recorded_args(dir / "data", dir / "b"), {"--train.stop_after_iterations", "4"}))
            .interrupted;
  }
  ASSERT_EQ(attempts, 2);  // stopped at step 4 (mid-epoch 2), then finished
  const auto a = read_events(dir / "a");
  const auto b = read_events(dir / "b");
  ASSERT_EQ(of_kind(b, "file").size(), 2u);
  EXPECT_EQ(of_kind(b, "restart"), (std::vector<Fields>{{"restart", "5"}}));
  // The resumed run's curves are the uninterrupted run's (an exact resume).
  for (const char* tag : {"train/loss", "train/lr", "epoch/train_loss", "val/top1"}) {
    const auto shown_a = shown_curve(a, tag);
    const auto shown_b = shown_curve(b, tag);
    ASSERT_EQ(shown_a.size(), shown_b.size()) << tag;
    for (const auto& [step, value] : shown_a)
      EXPECT_NEAR(shown_b.at(step), value, 1e-6) << tag << " at " << step;
  }
  // metrics.jsonl: steps only go forward.
  int64_t last = 0;
  const auto json = read_lines(dir / "b" / "metrics.jsonl");
  EXPECT_EQ(json.size(), read_lines(dir / "a" / "metrics.jsonl").size());
  for (const auto& line : json) {
    const auto step = static_cast<int64_t>(parse_json_line(line).at("step"));
    EXPECT_GE(step, last) << line;
    last = step;
  }
}

TEST(Recording, OffWritesNoEventFileNorJsonLines) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 6, 64, 5);
  train(
      with(tiny_args(dir / "data", dir / "run"), {"--train.epochs", "1", "--log.record", "false"}));
  EXPECT_TRUE(fs::exists(dir / "run" / "metrics.csv"));
  EXPECT_FALSE(fs::exists(dir / "run" / "metrics.jsonl"));
  for (const auto& entry : fs::directory_iterator(dir / "run"))
    EXPECT_EQ(entry.path().filename().string().find("tfevents"), std::string::npos);
}

}  // namespace
}  // namespace scenery::train::testing
