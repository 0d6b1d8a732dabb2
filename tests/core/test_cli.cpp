// The executables' shared conventions: exit codes, one-line errors, subcommands.
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/test_support.h"

namespace scenery {
namespace {
using testing::run_command;
using testing::TempDir;
using testing::tool_path;

TEST(Cli, UnknownSubcommandListsTheValidOnesAndExitsTwo) {
  const auto r = run_command(tool_path("scenery-data") + " frobnicate");
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.output.find("scenery-data: error: unknown subcommand 'frobnicate'; valid "
                          "subcommands: config"),
            std::string::npos)
      << r.output;
}

TEST(Cli, UnknownOptionExitsTwoWithOneLine) {
  const auto r = run_command(tool_path("scenery-eval") + " config --eval.crops ten");
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.output.find("did you mean 'eval.crop'"), std::string::npos) << r.output;
  int lines = 0;
  for (char c : r.output)
    lines += c == '\n';
  EXPECT_EQ(lines, 1) << r.output;
}

TEST(Cli, MissingConfigFileExitsTwo) {
  const auto r = run_command(tool_path("scenery-train") + " --config /no/such.cfg");
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_NE(r.output.find("/no/such.cfg"), std::string::npos);
}

TEST(Cli, EveryShippedRecipeParses) {
  for (const auto& entry : std::filesystem::directory_iterator(SCENERY_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".cfg") continue;
    const auto r = run_command(tool_path("scenery-train") + " --dump-config --config " +
                               entry.path().string());
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.output;
  }
}

TEST(Cli, DumpConfigOfTheToolReadsBack) {
  TempDir dir;
  const auto dumped = run_command(tool_path("scenery-train") +
                                  " --dump-config --train.lr 0.003 --data.batch_size 12");
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
  testing::write_text(dir / "d.cfg", dumped.output);
  const auto again = run_command(tool_path("scenery-train") + " --dump-config --config " +
                                 (dir / "d.cfg").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("lr = 0.003"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("batch_size = 12"), std::string::npos) << again.output;
}

TEST(Cli, HelpIsGroupedBySectionWithDefaults) {
  const auto r = run_command(tool_path("scenery-train") + " --help");
  EXPECT_EQ(r.exit_code, 0);
  const auto data = r.output.find("[data]");
  const auto model = r.output.find("[model]");
  const auto train = r.output.find("[train]");
  ASSERT_NE(data, std::string::npos) << r.output;
  EXPECT_LT(data, model);
  EXPECT_LT(model, train);
  EXPECT_NE(r.output.find("--train.lr NUM (=0.1)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace scenery
