// scenery-eval writing its report and submission onto a full filesystem
// (support/small_filesystem.h): a clear error naming the file and the
// system's reason, nothing half-written left, and a clean rerun once freed.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "eval_test_helpers.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "support/small_filesystem.h"
#include "support/test_support.h"

namespace scenery::eval {
namespace {
namespace fs = std::filesystem;

TEST(EvalDiskFull, AFullDiskNamesTheFileAndErrnoAndAFreedOneTakesTheWholeReport) {
  if (!testing::can_mount_small_filesystem())
    GTEST_SKIP() << "no user/mount namespaces for a small tmpfs here";
  testing::TempDir dir;
  write_synth("places365", dir / "places", 6, 2, 64);
  torch::manual_seed(0);
  models::CheckpointMeta meta;
  meta.input_size = 48;
  models::save_checkpoint(dir / "m.ckpt", models::create_model("resnet18", 6), meta);
  fs::create_directories(dir / "mnt");
  const std::string command = fmt::format(
      "{} run --data.dataset places365 --data.root {} --data.split val --data.resize 56 "
      "--eval.checkpoint {} --eval.out {mnt}/out --eval.submission {mnt}/val.txt",
      testing::tool_path("scenery-eval"), (dir / "places").string(), (dir / "m.ckpt").string(),
      fmt::arg("mnt", (dir / "mnt").string()));
  // 1 MB, all but 8 KB taken by a filler: the configuration copy fits, the report does not.
  const std::string script = fmt::format(
      "mount -t tmpfs -o size=1m tmpfs {mnt} || exit 3\n"
      "head -c $(( $(stat -f -c '%a*%S' {mnt}) - 8192 )) /dev/zero >{mnt}/filler\n"
      "{cmd} >{out}/full.log 2>&1; echo $? >{out}/full.rc\n"
      "ls -aR {mnt} >{out}/full.ls\n"
      "rm {mnt}/filler\n"
      "{cmd} >{out}/freed.log 2>&1; echo $? >{out}/freed.rc\n"
      "cp {mnt}/out/results.json {mnt}/val.txt {out}/\n",
      fmt::arg("mnt", (dir / "mnt").string()), fmt::arg("cmd", command),
      fmt::arg("out", dir.path().string()));
  const auto r = testing::run_in_own_mount_namespace(dir / "script.sh", script);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::string full = testing::read_text(dir / "full.log");
  EXPECT_EQ(testing::read_text(dir / "full.rc"), "1\n") << full;
  EXPECT_NE(full.find("No space left on device"), std::string::npos) << full;
  EXPECT_NE(full.find((dir / "mnt").string()), std::string::npos) << full;
  const std::string listing = testing::read_text(dir / "full.ls");
  EXPECT_EQ(listing.find(".tmp."), std::string::npos) << listing;

  EXPECT_EQ(testing::read_text(dir / "freed.rc"), "0\n") << testing::read_text(dir / "freed.log");
  EXPECT_NE(testing::read_text(dir / "results.json").find("\"top1\""), std::string::npos);
  EXPECT_FALSE(testing::read_text(dir / "val.txt").empty());
}

}  // namespace
}  // namespace scenery::eval
