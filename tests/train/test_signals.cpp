// A real SIGTERM to a child scenery-train: it finishes the step, saves
// last.ckpt mid-run and exits with code 3; re-running resumes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "models/checkpoint.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

pid_t spawn(const std::vector<std::string>& args, const fs::path& output) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(output.c_str(), "w", stderr);
    (void)out;
    std::vector<std::string> argv_s{scenery::testing::tool_path("scenery-train")};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

TEST(TrainSignals, SigtermSavesLastCheckpointAndExitsWithThree) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto run = dir / "run";
  auto args = tiny_args(dir / "data", run);
  args = with(args, {"--train.epochs", "50", "--log-level", "info"});
  const pid_t pid = spawn(args, dir / "out.txt");
  ASSERT_GT(pid, 0);
  // Wait until the first epoch is under way (its log line is written once the
  // handlers are installed), then a little more so the run is mid-epoch.
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    started =
        scenery::testing::read_text(dir / "out.txt").find("training images") != std::string::npos;
  }
  ASSERT_TRUE(started) << scenery::testing::read_text(dir / "out.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string output = scenery::testing::read_text(dir / "out.txt");
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), kExitInterrupted) << output;
  EXPECT_CONTAINS(output, "signal 15");
  const auto ckpt = models::read_checkpoint(run / "last.ckpt");
  ASSERT_TRUE(ckpt.training);
  EXPECT_GT(ckpt.training->iteration, 0);
  EXPECT_LT(ckpt.training->epoch, 50);
  // Re-running the same command resumes where it stopped (here: one more step).
  const auto result = train(with(args, {"--train.stop_after_iterations", "1"}));
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.iteration, ckpt.training->iteration + 1);
}

}  // namespace
}  // namespace scenery::train::testing
