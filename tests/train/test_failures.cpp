// What goes wrong, and that it goes wrong early, clearly and without harm.
#include <gtest/gtest.h>
#include <unistd.h>

#include "models/checkpoint.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

template <class E>
std::string message_of(const std::vector<std::string>& args) {
  try {
    train(args);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected error type: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(TrainFailures, UnwritableRunDirFailsBeforeTouchingData) {
  TempDir dir;
  scenery::testing::write_text(dir / "plain_file", "x");
  // The dataset root does not exist: had anything read it first, this would be a DataError.
  const auto msg = message_of<IoError>(tiny_args(dir / "no_such_data", dir / "plain_file" / "run"));
  EXPECT_CONTAINS(msg, "plain_file");
}

TEST(TrainFailures, ResumeAndInitWeightsAreMutuallyExclusiveAndCheckedFirst) {
  TempDir dir;
  scenery::testing::write_text(dir / "run" / "last.ckpt", "not even a checkpoint");
  const auto args = with(tiny_args(dir / "no_such_data", dir / "run"),
                         {"--model.weights", (dir / "w.ckpt").string()});
  EXPECT_CONTAINS(message_of<ConfigError>(args), "mutually exclusive");
  EXPECT_CONTAINS(message_of<ConfigError>(with(args, {"--train.resume", "yes"})),
                  "mutually exclusive");
  // Through the tool: exit code 2.
  std::string cmd = scenery::testing::tool_path("scenery-train");
  for (const auto& a : args)
    cmd += " '" + a + "'";
  const auto r = scenery::testing::run_command(cmd);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "mutually exclusive");
  // resume = yes with nothing to resume is also a configuration error.
  EXPECT_CONTAINS(message_of<ConfigError>(with(tiny_args(dir / "no_such_data", dir / "empty"),
                                               {"--train.resume", "yes"})),
                  "no ");
}

TEST(TrainFailures, ClassCountMismatchNamesBothCounts) {
  TempDir dir;
  make_dataset("places365", dir / "data4", 4, 8, 64);
  make_dataset("places365", dir / "data3", 3, 8, 64);
  // Recipe vs dataset.
  const auto msg = message_of<ConfigError>(tiny_args(dir / "data4", dir / "run", 5));
  EXPECT_CONTAINS(msg, "model.num_classes = 5");
  EXPECT_CONTAINS(msg, "has 4 scene classes");
  // Checkpoint vs dataset: a 4-class run resumed on a 3-class dataset.
  train(with(tiny_args(dir / "data4", dir / "run"), {"--train.epochs", "1"}));
  const auto ck = message_of<CheckpointError>(
      with(tiny_args(dir / "data3", dir / "run", 3), {"--train.epochs", "2"}));
  EXPECT_CONTAINS(ck, "has 4 classes but the model has 3");
}

TEST(TrainFailures, NonFiniteLossStopsNamingEpochAndIterationAndKeepsLastGoodCheckpoint) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto run = dir / "run";
  train(with(tiny_args(dir / "data", run), {"--train.epochs", "1"}));
  const auto before = models::read_checkpoint(run / "last.ckpt");
  const auto msg = message_of<TrainError>(
      with(tiny_args(dir / "data", run),
           {"--train.epochs", "3", "--train.lr", "1e38", "--train.momentum", "0"}));
  EXPECT_CONTAINS(msg, "at epoch ");
  EXPECT_CONTAINS(msg, "iteration ");
  EXPECT_CONTAINS(msg, "last.ckpt");
  const auto after = models::read_checkpoint(run / "last.ckpt");
  expect_same_weights(before.state_dict, after.state_dict);
  EXPECT_EQ(after.training->epoch, 1);
}

TEST(TrainFailures, FailedSaveLeavesThePreviousLastCheckpointIntact) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto run = dir / "run";
  train(with(tiny_args(dir / "data", run), {"--train.epochs", "1"}));
  const auto before = models::read_checkpoint(run / "last.ckpt");
  // The atomic save writes a sibling temp file first; a directory in its place
  // makes creating it fail, as a full disk would make writing it fail.
  fs::create_directories(run / (".last.ckpt.tmp." + std::to_string(::getpid())));
  const auto msg =
      message_of<CheckpointError>(with(tiny_args(dir / "data", run), {"--train.epochs", "2"}));
  EXPECT_CONTAINS(msg, "last.ckpt");
  const auto after = models::read_checkpoint(run / "last.ckpt");
  expect_same_weights(before.state_dict, after.state_dict);
  EXPECT_EQ(after.training->epoch, 1);
}

TEST(TrainFailures, BadOptionValuesAreConfigErrors) {
  TempDir dir;
  EXPECT_CONTAINS(message_of<ConfigError>(
                      with(tiny_args(dir / "d", dir / "r"), {"--train.best_metric", "miou"})),
                  "best_metric");
  EXPECT_CONTAINS(message_of<ConfigError>(
                      with(tiny_args(dir / "d", dir / "r"), {"--train.schedule", "exponential"})),
                  "exponential");
  EXPECT_CONTAINS(
      message_of<ConfigError>(with(tiny_args(dir / "d", dir / "r"), {"--train.resume", "maybe"})),
      "maybe");
}

}  // namespace
}  // namespace scenery::train::testing
