// scenery-eval over several ranks (processes on 127.0.0.1, Gloo): each rank
// takes its shard without padding or duplicates, the meters' integer counts
// are summed, and rank 0 writes one sorted output. Everything it writes must
// be byte for byte what a single process writes, for shards of unequal size.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "data/synth.h"
#include "eval_test_helpers.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "support/events_reader.h"
#include "support/test_support.h"

namespace scenery::eval {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::read_text;
using testing::TempDir;

// A randomly initialised model is as good a witness as a trained one here;
// `favoured` classes get a head start so a parser predicts the few classes
// the synthetic annotations use (non-zero pixel accuracy and IoUs).
fs::path save_random_model(const fs::path& file, const std::string& arch, int64_t classes,
                           const std::string& head_bias = "", int favoured = 0) {
  torch::manual_seed(11);
  auto model = models::create_model(arch, classes);
  if (!head_bias.empty()) {
    torch::NoGradGuard no_grad;
    for (auto& p : model.module().named_parameters()) {
      if (p.key() == head_bias) p.value().narrow(0, 0, favoured).add_(3.0);
    }
  }
  models::save_checkpoint(file, model, {});
  return file;
}

std::string eval_command(const std::vector<std::string>& args) {
  std::string cmd = testing::tool_path("scenery-eval") + " run";
  for (const auto& a : args)
    cmd += " '" + a + "'";
  return cmd;
}

// `args` on `world` ranks; returns rank 0's result (the others must succeed too).
CommandResult eval_ranks(const std::vector<std::string>& args, int world) {
  const std::string port = std::to_string(testing::free_port());
  std::vector<std::string> commands;
  for (int r = 0; r < world; ++r) {
    auto a = args;
    for (const std::string& s :
         {std::string("--dist.world_size"), std::to_string(world), std::string("--dist.rank"),
          std::to_string(r), std::string("--dist.init"), "tcp://127.0.0.1:" + port,
          std::string("--dist.timeout"), std::string("30")}) {
      a.push_back(s);
    }
    commands.push_back(eval_command(a));
  }
  const auto results = testing::run_commands_together(commands);
  for (size_t r = 1; r < results.size(); ++r) {
    EXPECT_EQ(results[r].exit_code, 0) << "rank " << r << ":\n" << results[r].output;
  }
  return results[0];
}

std::vector<std::string> with_out(std::vector<std::string> args, const fs::path& out,
                                  const std::vector<std::string>& more = {}) {
  args.push_back("--eval.out");
  args.push_back(out.string());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The metric lines scenery-eval prints (progress bars and paths aside).
std::string metric_lines(const std::string& output) {
  std::string kept, line;
  std::istringstream in(output);
  while (std::getline(in, line)) {
    for (const char* prefix :
         {"images ", "top-", "MCA ", "pixel accuracy ", "mean IoU ", "score "}) {
      if (line.rfind(prefix, 0) == 0) kept += line + "\n";
    }
  }
  return kept;
}

void expect_same_file(const fs::path& a, const fs::path& b) {
  ASSERT_TRUE(fs::exists(a)) << a;
  ASSERT_TRUE(fs::exists(b)) << b;
  EXPECT_EQ(read_text(a), read_text(b)) << a << " vs " << b;
}

TEST(DistributedEval, ScenesOnThreeRanksEqualOneProcessByteForByte) {
  TempDir dir;
  write_synth("places365", dir / "data", 5, 9, 64);  // val 10, test 10: shards of 4, 3, 3
  const auto ckpt = save_random_model(dir / "model.ckpt", "resnet18", 5);
  const std::vector<std::string> base = {
      "--data.dataset",    "places365", "--data.root",       (dir / "data").string(),
      "--data.image_size", "48",        "--data.resize",     "56",
      "--data.batch_size", "3",         "--eval.checkpoint", ckpt.string(),
      "--eval.device",     "cpu",       "--log-level",       "warn"};
  for (const std::string crop : {"center", "ten"}) {
    const auto val =
        with_out(base, dir / ("one_" + crop), {"--data.split", "val", "--eval.crop", crop});
    const auto one = testing::run_command(eval_command(val));
    ASSERT_EQ(one.exit_code, 0) << one.output;
    const auto three = eval_ranks(
        with_out(base, dir / ("three_" + crop), {"--data.split", "val", "--eval.crop", crop}), 3);
    ASSERT_EQ(three.exit_code, 0) << three.output;
    // The printed metrics, and every report file.
    EXPECT_EQ(metric_lines(one.output), metric_lines(three.output));
    EXPECT_NE(metric_lines(one.output).find("images 10\ntop-1"), std::string::npos) << one.output;
    for (const char* f : {"results.json", "per_class.csv", "confusion.csv"}) {
      expect_same_file(dir / ("one_" + crop) / f, dir / ("three_" + crop) / f);
    }
  }
  // The Places365 challenge file of the test split: one sorted file from all ranks.
  const auto sub_one = dir / "one_test" / "sub.txt";
  const auto sub_three = dir / "three_test" / "sub.txt";
  ASSERT_EQ(testing::run_command(eval_command(with_out(base, dir / "one_test",
                                                       {"--data.split", "test", "--eval.submission",
                                                        sub_one.string()})))
                .exit_code,
            0);
  ASSERT_EQ(eval_ranks(with_out(base, dir / "three_test",
                                {"--data.split", "test", "--eval.submission", sub_three.string()}),
                       3)
                .exit_code,
            0);
  expect_same_file(sub_one, sub_three);
  const std::string text = read_text(sub_one);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
}

TEST(DistributedEval, ParsingOnTwoRanksEqualsOneProcessIncludingThePngs) {
  TempDir dir;
  write_synth("ade20k", dir / "ade", 3, 2, 48);
  const auto ckpt = save_random_model(dir / "parser.ckpt", "parsing_resnet18dilated_ppm", 150,
                                      "decoder.conv_last.4.bias", 4);
  const std::vector<std::string> base = {
      "--data.dataset", "ade20k", "--data.root",       (dir / "ade").string(),
      "--data.split",   "val",    "--eval.checkpoint", ckpt.string(),
      "--eval.device",  "cpu",    "--eval.scales",     "0.75,1",
      "--log-level",    "warn"};
  const auto one = testing::run_command(
      eval_command(with_out(base, dir / "one", {"--eval.submission", (dir / "one_png").string()})));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two =
      eval_ranks(with_out(base, dir / "two", {"--eval.submission", (dir / "two_png").string()}), 2);
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(metric_lines(one.output), metric_lines(two.output));
  EXPECT_EQ(metric_lines(one.output).find("pixel accuracy 0.0000"), std::string::npos)
      << one.output;
  for (const char* f : {"results.json", "per_class.csv"}) {
    expect_same_file(dir / "one" / f, dir / "two" / f);
  }
  size_t pngs = 0;
  for (const auto& entry : fs::directory_iterator(dir / "one_png")) {
    expect_same_file(entry.path(), dir / "two_png" / entry.path().filename());
    ++pngs;
  }
  EXPECT_GE(pngs, 3u);
  size_t two_pngs = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir / "two_png"))
    ++two_pngs;
  EXPECT_EQ(pngs, two_pngs);
  expect_same_file(dir / "one_png.zip", dir / "two_png.zip");

  // Rank 0 records the metrics and image | prediction | truth strips for TensorBoard.
  for (const char* run : {"one", "two"}) {
    const auto events = observe::testing::read_events(dir / run);
    const auto miou = observe::testing::of_kind(events, "scalar", "eval/miou");
    ASSERT_EQ(miou.size(), 1u) << run;
    const auto printed = one.output.find("mean IoU ");
    ASSERT_NE(printed, std::string::npos) << one.output;
    EXPECT_NEAR(std::stod(miou[0][3]), std::stod(one.output.substr(printed + 9)), 5e-5) << run;
    // Rank 0 pictures its own shard's first images: every other one on two ranks.
    const size_t shard = std::string(run) == "two" ? (pngs + 1) / 2 : pngs;
    const int pictured = static_cast<int>(std::min<size_t>(4, shard));  // eval.examples 4
    for (int i = 0; i < pictured; ++i) {
      const auto strip =
          observe::testing::of_kind(events, "image", fmt::format("eval/example_{}", i));
      ASSERT_EQ(strip.size(), 1u) << run << " example " << i;
      EXPECT_GE(std::stoi(strip[0][4]), 224 + 24) << "enlarged, captioned";
    }
    EXPECT_TRUE(observe::testing::of_kind(events, "image", fmt::format("eval/example_{}", pictured))
                    .empty());
  }
}

// Evaluation from WebDataset shards (scenery-data pack of the same split)
// prints and writes exactly what evaluation from the files does: metrics,
// reports, the Places365 submission and the parsing PNGs, on two ranks too.
std::string pack_split(const fs::path& root, const std::string& dataset, const std::string& split,
                       const fs::path& out) {
  const auto r =
      testing::run_command(testing::tool_path("scenery-data") + " pack --data.dataset " + dataset +
                           " --data.root '" + root.string() + "' --data.split " + split +
                           " --out '" + out.string() + "' --shard-samples 3 --log-level warn 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// results.json without the two protocol lines that name where the data came from.
std::string without_data_source(const fs::path& results) {
  std::string kept, line;
  std::istringstream in(read_text(results));
  while (std::getline(in, line))
    if (line.find("\"dataset\":") == std::string::npos &&
        line.find("\"root\":") == std::string::npos)
      kept += line + "\n";
  return kept;
}

std::vector<std::string> as_shards(std::vector<std::string> args, const fs::path& shards) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--data.dataset") args[i + 1] = "webdataset";
    if (args[i] == "--data.root") args[i + 1] = shards.string();
  }
  return args;
}

TEST(ShardEval, ScenesFromShardsEqualScenesFromFiles) {
  TempDir dir;
  write_synth("places365", dir / "data", 5, 9, 64);
  const auto ckpt = save_random_model(dir / "model.ckpt", "resnet18", 5);
  for (const char* split : {"val", "test"})
    pack_split(dir / "data", "places365", split, dir / "wds");
  const std::vector<std::string> base = {
      "--data.dataset",    "places365", "--data.root",       (dir / "data").string(),
      "--data.image_size", "48",        "--data.resize",     "56",
      "--data.batch_size", "3",         "--eval.checkpoint", ckpt.string(),
      "--eval.device",     "cpu",       "--log-level",       "warn"};
  const auto files =
      testing::run_command(eval_command(with_out(base, dir / "files", {"--data.split", "val"})));
  ASSERT_EQ(files.exit_code, 0) << files.output;
  const auto shards = eval_ranks(
      with_out(as_shards(base, dir / "wds"), dir / "shards", {"--data.split", "val"}), 2);
  ASSERT_EQ(shards.exit_code, 0) << shards.output;
  EXPECT_EQ(metric_lines(files.output), metric_lines(shards.output));
  EXPECT_NE(metric_lines(files.output).find("images 10\ntop-1"), std::string::npos);
  EXPECT_EQ(without_data_source(dir / "files" / "results.json"),
            without_data_source(dir / "shards" / "results.json"));
  for (const char* f : {"per_class.csv", "confusion.csv"})
    expect_same_file(dir / "files" / f, dir / "shards" / f);
  const auto sub_files = dir / "files_test" / "sub.txt",
             sub_shards = dir / "shards_test" / "sub.txt";
  ASSERT_EQ(testing::run_command(eval_command(with_out(base, dir / "files_test",
                                                       {"--data.split", "test", "--eval.submission",
                                                        sub_files.string()})))
                .exit_code,
            0);
  const auto test_run = testing::run_command(
      eval_command(with_out(as_shards(base, dir / "wds"), dir / "shards_test",
                            {"--data.split", "test", "--eval.submission", sub_shards.string()})));
  ASSERT_EQ(test_run.exit_code, 0) << test_run.output;
  expect_same_file(sub_files, sub_shards);
}

TEST(ShardEval, ParsingFromShardsEqualsParsingFromFiles) {
  TempDir dir;
  write_synth("ade20k", dir / "ade", 3, 2, 48);
  pack_split(dir / "ade", "ade20k", "val", dir / "wds");
  const auto ckpt = save_random_model(dir / "parser.ckpt", "parsing_resnet18dilated_ppm", 150,
                                      "decoder.conv_last.4.bias", 4);
  const std::vector<std::string> base = {
      "--data.dataset", "ade20k", "--data.root",       (dir / "ade").string(),
      "--data.split",   "val",    "--eval.checkpoint", ckpt.string(),
      "--eval.device",  "cpu",    "--log-level",       "warn"};
  const auto files = testing::run_command(eval_command(
      with_out(base, dir / "files", {"--eval.submission", (dir / "files_png").string()})));
  ASSERT_EQ(files.exit_code, 0) << files.output;
  const auto shards = testing::run_command(
      eval_command(with_out(as_shards(base, dir / "wds"), dir / "shards",
                            {"--eval.submission", (dir / "shards_png").string()})));
  ASSERT_EQ(shards.exit_code, 0) << shards.output;
  EXPECT_EQ(metric_lines(files.output), metric_lines(shards.output));
  EXPECT_EQ(metric_lines(files.output).find("pixel accuracy 0.0000"), std::string::npos);
  EXPECT_EQ(without_data_source(dir / "files" / "results.json"),
            without_data_source(dir / "shards" / "results.json"));
  expect_same_file(dir / "files" / "per_class.csv", dir / "shards" / "per_class.csv");
  size_t pngs = 0;
  for (const auto& entry : fs::directory_iterator(dir / "files_png")) {
    expect_same_file(entry.path(), dir / "shards_png" / entry.path().filename());
    ++pngs;
  }
  EXPECT_GE(pngs, 3u);
}

}  // namespace
}  // namespace scenery::eval
