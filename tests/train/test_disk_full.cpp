// A run directory on a filesystem that fills up: a real one
// (support/small_filesystem.h), so every write path meets ENOSPC from the
// kernel rather than from a simulation.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "support/small_filesystem.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

using scenery::testing::read_text;
using scenery::testing::tool_path;

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args)
    out += " '" + a + "'";
  return out;
}

TEST(DiskFull, ACheckpointThatDoesNotFitFailsNamingFileAndErrnoThenTheRunResumesOnceThereIsSpace) {
  if (!scenery::testing::can_mount_small_filesystem())
    GTEST_SKIP() << "no user/mount namespaces for a small tmpfs here";
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto run = dir / "mnt" / "run";
  fs::create_directories(dir / "mnt");
  const std::string command =
      tool_path("scenery-train") + joined(with(tiny_args(dir / "data", run), {"--log.every", "1"}));
  // Epoch 1 writes best.ckpt (45 MB) and last.ckpt (90 MB); 150 MB cannot
  // also hold the temp file of epoch 2's next checkpoint. Then the same
  // filesystem grows, as when a user frees space, and the same command runs again.
  const std::string script = fmt::format(
      "mount -t tmpfs -o size=150m tmpfs {mnt} || exit 3\n"
      "{cmd} >{out}/full.log 2>&1; echo $? >{out}/full.rc\n"
      "ls -a {run} >{out}/full.ls\n"
      "mount -o remount,size=600m {mnt} || exit 4\n"
      "{cmd} >{out}/resumed.log 2>&1; echo $? >{out}/resumed.rc\n"
      "cp {run}/metrics.csv {out}/\n",
      fmt::arg("mnt", (dir / "mnt").string()), fmt::arg("cmd", command),
      fmt::arg("out", dir.path().string()), fmt::arg("run", run.string()));
  const auto r = scenery::testing::run_in_own_mount_namespace(dir / "script.sh", script);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::string full = read_text(dir / "full.log");
  EXPECT_NE(read_text(dir / "full.rc"), "0\n") << full;
  EXPECT_CONTAINS(full, ".ckpt");
  EXPECT_CONTAINS(full, "No space left on device");
  // No temp file is left behind to take the space.
  EXPECT_EQ(read_text(dir / "full.ls").find(".tmp."), std::string::npos)
      << read_text(dir / "full.ls");

  const std::string resumed = read_text(dir / "resumed.log");
  EXPECT_EQ(read_text(dir / "resumed.rc"), "0\n") << resumed;
  EXPECT_CONTAINS(resumed, "resum");
  const auto csv = read_lines(dir / "metrics.csv");
  ASSERT_EQ(csv.size(), 3u);  // header, epoch 1 (kept), epoch 2 (trained again)
  EXPECT_EQ(csv[2].rfind("2,", 0), 0u) << csv[2];
}

}  // namespace
}  // namespace scenery::train::testing
