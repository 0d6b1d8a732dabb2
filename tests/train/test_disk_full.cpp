// A run directory on a filesystem that fills up: a real one, a small tmpfs
// mounted in a mount namespace of the test's own (unshare: no root needed
// where user namespaces are allowed), so every write path meets ENOSPC from
// the kernel rather than from a simulation.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

using scenery::testing::read_text;
using scenery::testing::run_command;
using scenery::testing::tool_path;
using scenery::testing::write_text;

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args)
    out += " '" + a + "'";
  return out;
}

// Runs `script` (bash) as root of a new user and mount namespace; false when
// this machine allows neither that nor mounting a tmpfs in it.
bool namespaces_available() {
  return run_command(
             "unshare -rm bash -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "
             "$d && umount $d && rmdir $d' 2>&1")
             .exit_code == 0;
}

TEST(DiskFull, ACheckpointThatDoesNotFitFailsNamingFileAndErrnoThenTheRunResumesOnceThereIsSpace) {
  if (!namespaces_available()) GTEST_SKIP() << "no user/mount namespaces for a small tmpfs here";
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
  write_text(dir / "script.sh", script);
  const auto r = run_command("unshare -rm bash " + (dir / "script.sh").string() + " 2>&1");
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
