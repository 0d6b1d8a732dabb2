#include "observe/run_recorder.h"

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/log.h"
#include "observe/metrics_jsonl.h"
#include "support/events_reader.h"
#include "support/test_support.h"

namespace scenery::observe {
namespace {

using scenery::testing::read_text;
using scenery::testing::TempDir;
using testing::of_kind;
using testing::read_events;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

cv::Mat gradient_picture(int width, int height, int type) {
  cv::Mat picture(height, width, type);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width * picture.channels(); ++x)
      picture.ptr<uint8_t>(y)[x] = static_cast<uint8_t>(x * 7 + y * 3);
  return picture;
}

TEST(RunRecorder, ScalarsPicturesAndTextReadBackByAnIndependentReader) {
  TempDir dir;
  {
    RunRecorder recorder(dir.path(), {});
    recorder.text(0, "config", "[train]\nlr = 0.1\n");
    recorder.scalars(10, 1, {{"train/loss", 2.5}, {"train/lr", 0.1}});
    recorder.scalars(20, 1, {{"train/loss", 1.25}, {"train/lr", 0.05}});
    recorder.image(20, "val/colour", gradient_picture(30, 20, CV_8UC3));
    recorder.image(20, "val/grey", gradient_picture(11, 7, CV_8UC1));
  }
  const auto lines = read_events(dir.path());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0][0], "file");
  EXPECT_CONTAINS(lines[0][1], "events.out.tfevents.");
  EXPECT_EQ(lines[1], (testing::Fields{"file_version", "0", "brain.Event:2"}));
  const auto loss = of_kind(lines, "scalar", "train/loss");
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_EQ(loss[0][1], "10");
  EXPECT_EQ(loss[0][3], "2.5");
  EXPECT_EQ(loss[1][1], "20");
  EXPECT_EQ(loss[1][3], "1.25");
  const auto lr = of_kind(lines, "scalar", "train/lr");
  ASSERT_EQ(lr.size(), 2u);
  EXPECT_EQ(static_cast<float>(std::stod(lr[0][3])), 0.1f);  // stored as float32
  const auto colour = of_kind(lines, "image", "val/colour");
  ASSERT_EQ(colour.size(), 1u);
  EXPECT_EQ(colour[0], (testing::Fields{"image", "20", "val/colour", "30", "20", "3", "30", "20"}));
  const auto grey = of_kind(lines, "image", "val/grey");
  ASSERT_EQ(grey.size(), 1u);
  EXPECT_EQ(grey[0], (testing::Fields{"image", "20", "val/grey", "11", "7", "1", "11", "7"}));
  const auto text = of_kind(lines, "text", "config");
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0][3], "text");  // the plugin that shows it
  EXPECT_EQ(text[0][4], "[train]\\nlr = 0.1\\n");

  const auto json = lines_of(dir / "metrics.jsonl");
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0].rfind("{\"step\":10,\"epoch\":1,\"time\":", 0), 0u) << json[0];
  EXPECT_CONTAINS(json[0], ",\"train/loss\":2.5,\"train/lr\":0.1}");
  EXPECT_CONTAINS(json[1], ",\"train/loss\":1.25,\"train/lr\":0.05}");
}

TEST(RunRecorder, AResumedRecorderKeepsEarlierLinesAndTellsTensorBoardToForgetLaterSteps) {
  TempDir dir;
  {
    RunRecorder first(dir.path(), {});
    for (int step = 1; step <= 5; ++step)
      first.scalars(step, 1, {{"train/loss", 1.0 / step}});
  }
  RecorderOptions resumed;
  resumed.resume_step = 3;  // the checkpoint was at step 3; steps 4 and 5 are lost
  {
    // A different second: event file names begin with the creation time.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    RunRecorder second(dir.path(), resumed);
    second.scalars(4, 1, {{"train/loss", 0.2}});
  }
  const auto json = lines_of(dir / "metrics.jsonl");
  ASSERT_EQ(json.size(), 4u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(json[i].rfind(fmt::format("{{\"step\":{},", i + 1), 0), 0u) << json[i];
  EXPECT_CONTAINS(json[3], "\"train/loss\":0.2}");

  const auto lines = read_events(dir.path());
  ASSERT_EQ(of_kind(lines, "file").size(), 2u);
  // The second file: its version, then the restart after the checkpoint's step.
  size_t second = 0;
  for (size_t i = 1; i < lines.size(); ++i)
    if (lines[i][0] == "file") second = i;
  ASSERT_GT(lines.size(), second + 3);
  EXPECT_EQ(lines[second + 1][0], "file_version");
  EXPECT_EQ(lines[second + 2], (testing::Fields{"restart", "4"}));
  EXPECT_EQ(lines[second + 3][0], "scalar");
  EXPECT_EQ(lines[second + 3][1], "4");
}

TEST(RunRecorder, FilesReachTheDiskEveryFlushSecondsWithoutBeingAsked) {
  TempDir dir;
  RecorderOptions options;
  options.flush_s = 0.05;
  RunRecorder recorder(dir.path(), options);
  recorder.scalars(7, 2, {{"train/loss", 0.5}});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(of_kind(read_events(dir.path()), "scalar", "train/loss").size(), 1u);
  EXPECT_EQ(lines_of(dir / "metrics.jsonl").size(), 1u);
}

TEST(RunRecorder, AFullDiskWarnsOnceAndRecordsNothingMoreWithoutFailingTheCaller) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/full", dir / "events.out.tfevents.full");
  std::filesystem::create_symlink("/dev/full", dir / "metrics.jsonl.full");
  RecorderOptions options;
  options.event_file = "events.out.tfevents.full";
  options.jsonl_file = "metrics.jsonl.full";
  const auto log_file = dir / "warnings.log";
  log::add_file(log_file);
  {
    RunRecorder recorder(dir.path(), options);
    recorder.scalars(1, 1, {{"train/loss", 1.0}});
    recorder.flush();
    EXPECT_TRUE(recorder.failed());
    for (int step = 2; step < 50; ++step)
      recorder.scalars(step, 1, {{"train/loss", 1.0}});
    recorder.image(50, "val/confusion", gradient_picture(8, 8, CV_8UC3));
    recorder.flush();  // returns although nothing can be written
  }
  log::close_file();
  const std::string warnings = read_text(log_file);
  EXPECT_CONTAINS(warnings, "events.out.tfevents.full");
  EXPECT_CONTAINS(warnings, "No space left on device");
  EXPECT_EQ(warnings.find("recording the run"), warnings.rfind("recording the run")) << warnings;
}

TEST(MetricsJsonl, LinesNotWrittenByItOrPastTheResumeStepAreDropped) {
  TempDir dir;
  scenery::testing::write_text(dir / "m.jsonl",
                               "{\"step\":1,\"time\":1,\"a\":1}\n"
                               "{\"step\":2,\"time\":2,\"a\":2}\n"
                               "{\"step\":3,\"ti\n"  // torn by a crash
                               "{\"step\":9,\"time\":9,\"a\":9}\n");
  { MetricsJsonl keep(dir / "m.jsonl", 2); }
  EXPECT_EQ(read_text(dir / "m.jsonl"),
            "{\"step\":1,\"time\":1,\"a\":1}\n{\"step\":2,\"time\":2,\"a\":2}\n");
  { MetricsJsonl fresh(dir / "m.jsonl", -1); }
  EXPECT_EQ(read_text(dir / "m.jsonl"), "");
}

}  // namespace
}  // namespace scenery::observe
