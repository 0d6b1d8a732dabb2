// Data-parallel scenery-train: real processes on 127.0.0.1 over Gloo.
// The truth each test holds the run against is a single process: 2 ranks x
// batch B on the same samples must end where 1 rank x batch 2B ends; an
// interrupted and resumed 2-rank run where the uninterrupted one ends.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "data/data_options.h"
#include "data/sampler.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

using scenery::testing::CommandResult;

std::string command_line(const std::vector<std::string>& args) {
  std::string cmd = scenery::testing::tool_path("scenery-train");
  for (const auto& a : args)
    cmd += " '" + a + "'";
  return cmd;
}

// Every rank's command: `args` plus its rank, on one fresh port.
std::vector<CommandResult> train_ranks(const std::vector<std::string>& args, int world,
                                       double timeout_s = 30,
                                       const std::string& log_level = "warn") {
  const std::string port = std::to_string(scenery::testing::free_port());
  std::vector<std::string> commands;
  for (int r = 0; r < world; ++r) {
    commands.push_back(command_line(
        with(args, {"--dist.world_size", std::to_string(world), "--dist.rank", std::to_string(r),
                    "--dist.init", "tcp://127.0.0.1:" + port, "--dist.timeout",
                    std::to_string(timeout_s), "--log-level", log_level})));
  }
  return scenery::testing::run_commands_together(commands);
}

void expect_exit(const std::vector<CommandResult>& results, int code) {
  for (size_t r = 0; r < results.size(); ++r) {
    EXPECT_EQ(results[r].exit_code, code) << "rank " << r << ":\n" << results[r].output;
  }
}
void expect_all_ok(const std::vector<CommandResult>& results) {
  expect_exit(results, 0);
}
// train.stop_after_iterations ends a run with exit code 3 (interrupted, resumable).
void expect_all_stopped(const std::vector<CommandResult>& results) {
  expect_exit(results, 3);
}

// sqrt(sum (a - b)^2 / sum a^2) over the trainable tensors (running statistics aside).
double relative_difference(const fs::path& a_file, const fs::path& b_file) {
  const auto a = models::read_checkpoint(a_file).state_dict;
  const auto b = models::read_checkpoint(b_file).state_dict;
  double num = 0, den = 0;
  for (const auto& item : a) {
    if (!item.value().is_floating_point() || item.key().find("running_") != std::string::npos)
      continue;
    const auto x = item.value().to(torch::kDouble);
    const auto y = b.find(item.key())->to(torch::kDouble);
    num += (x - y).square().sum().item<double>();
    den += x.square().sum().item<double>();
  }
  return std::sqrt(num / den);
}

// 3 optimizer steps on the same 24 samples: 1 rank x `batch` or `world` x batch/world.
struct Equivalence {
  double synchronised = 0, local = 0;
};

std::vector<std::string> equivalence_args(const fs::path& data, const fs::path& run,
                                          const std::vector<std::string>& recipe) {
  return with({"--data.dataset",
               "places365",
               "--data.root",
               data.string(),
               "--data.workers",
               "1",
               "--train.epochs",
               "1",
               "--train.threads",
               "1",
               "--train.run_dir",
               run.string(),
               "--train.val_every",
               "0",
               "--train.stop_after_iterations",
               "3",
               "--train.momentum",
               "0.9",
               "--log-level",
               "warn"},
              recipe);
}

std::vector<std::string> resume_args(const fs::path& data, const fs::path& run) {
  return with(tiny_args(data, run), {"--train.epochs", "2", "--data.batch_size", "4",
                                     "--train.val_split", "val", "--log-level", "warn"});
}

TEST(DataParallel, TwoRanksEqualOneRankWithTheDoubleBatchWithoutBatchNorm) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 72);
  // The Places GoogLeNet without dropout: no BatchNorm, so nothing in it depends
  // on how the batch is split (AlexNet and CaffeNet are the others, at 10x the
  // parameters: 3 of their runs took a minute, checkpoints and all-reduce). Its 22
  // layers amplify rounding faster than AlexNet's 8: a smaller step keeps 3 steps in
  // the regime where rounding stays rounding (at 0.01: 1.1e-5).
  const std::vector<std::string> recipe = {"--model.arch",        "googlenet_places",
                                           "--model.dropout",     "0",
                                           "--model.num_classes", "4",
                                           "--data.image_size",   "64",
                                           "--data.resize",       "72",
                                           "--train.lr",          "0.001"};
  train(with(equivalence_args(dir / "data", dir / "one", recipe), {"--data.batch_size", "8"}));
  expect_all_stopped(train_ranks(
      with(equivalence_args(dir / "data", dir / "two", recipe), {"--data.batch_size", "4"}), 2));
  const double diff = relative_difference(dir / "one" / "last.ckpt", dir / "two" / "last.ckpt");
  std::cout << "relative difference, 2 ranks x 4 vs 1 rank x 8: " << diff << "\n";
  EXPECT_LT(diff, 1e-5);
  EXPECT_GT(diff, 0.0) << "suspiciously bitwise equal: was the second run data parallel?";
}

TEST(DataParallel, AccumulatedGradientsSynchroniseOnlyOnTheLastMicroBatch) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 72);
  const std::vector<std::string> recipe = {"--model.arch",        "googlenet_places",
                                           "--model.dropout",     "0",
                                           "--model.num_classes", "4",
                                           "--data.image_size",   "64",
                                           "--data.resize",       "72",
                                           "--train.lr",          "0.001",
                                           "--train.accumulate",  "2"};
  // 2 micro-batches per step: the first accumulates locally (DDP's no_sync),
  // the second reduces the sum; the result is 1 rank's accumulated double batch.
  // lr 0.001 keeps both steps in the rounding regime (at 0.01 rounding grew to
  // 3.7e-6 with LibTorch 1.13 and 1.6e-5 with 2.6's oneDNN 3 at SSE4.1); a
  // reduction on the wrong micro-batch changes the update itself, far above 1e-5.
  train(with(equivalence_args(dir / "data", dir / "one", recipe),
             {"--data.batch_size", "4", "--train.stop_after_iterations", "2"}));
  expect_all_stopped(
      train_ranks(with(equivalence_args(dir / "data", dir / "two", recipe),
                       {"--data.batch_size", "2", "--train.stop_after_iterations", "2"}),
                  2));
  const double diff = relative_difference(dir / "one" / "last.ckpt", dir / "two" / "last.ckpt");
  std::cout << "relative difference, accumulated: " << diff << "\n";
  EXPECT_LT(diff, 1e-5);
}

TEST(DataParallel, ModelsThatDifferAcrossRanksAreNamedBeforeTraining) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const std::string port = std::to_string(scenery::testing::free_port());
  const auto args = with(
      resume_args(dir / "data", dir / "run"),
      {"--dist.world_size", "2", "--dist.init", "tcp://127.0.0.1:" + port, "--dist.timeout", "20"});
  const auto results = scenery::testing::run_commands_together(
      {command_line(with(args, {"--dist.rank", "0"})),
       command_line(with(args, {"--dist.rank", "1", "--model.arch", "resnet34"}))});
  for (const auto& r : results) {
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_CONTAINS(r.output, "the model differs across ranks from tensor #");
    // ResNet-18's layer2 starts where ResNet-34's layer1 has a third block.
    EXPECT_CONTAINS(r.output, "rank 0: [128, 64, 3, 3] (");
    EXPECT_CONTAINS(r.output, "rank 1: [64, 64, 3, 3] (");
  }
  EXPECT_CONTAINS(results[0].output, "('layer2.0.conv1.weight' here)");
  EXPECT_CONTAINS(results[1].output, "('layer1.2.conv1.weight' here)");
}

Equivalence batchnorm_equivalence(const TempDir& dir, const std::string& dataset,
                                  const std::vector<std::string>& recipe, int batch) {
  const auto base = [&](const std::string& name) {
    return with(equivalence_args(dir / "data", dir / name, recipe), {"--data.dataset", dataset});
  };
  train(with(base("one"), {"--data.batch_size", std::to_string(batch)}));
  Equivalence e;
  for (const std::string sync : {"yes", "no"}) {
    expect_all_stopped(
        train_ranks(with(base("two_" + sync),
                         {"--data.batch_size", std::to_string(batch / 2), "--train.sync_bn", sync}),
                    2));
    (sync == "yes" ? e.synchronised : e.local) =
        relative_difference(dir / "one" / "last.ckpt", dir / ("two_" + sync) / "last.ckpt");
  }
  std::cout << "relative difference to 1 rank x " << batch << ": synchronised BatchNorm "
            << e.synchronised << ", per-rank BatchNorm " << e.local << "\n";
  return e;
}

TEST(DataParallel, SynchronisedBatchNormMakesResNet18EqualTheDoubleBatch) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 128);
  // A small learning rate keeps 3 steps in the regime where float rounding
  // stays rounding (at 0.02 even a change of thread count moves ResNet-18's
  // weights by 1e-3 after 3 steps on this data).
  const Equivalence e = batchnorm_equivalence(
      dir, "places365",
      {"--model.arch", "resnet18", "--model.num_classes", "4", "--data.image_size", "112",
       "--data.resize", "128", "--train.lr", "1e-4"},
      8);
  EXPECT_LT(e.synchronised, 1e-5);
  // Without synchronisation each rank normalises over its own half batch: that,
  // and only that, separates the runs (GoogLeNet, which has no BatchNorm, matches).
  EXPECT_GT(e.local, 1e-5);
  EXPECT_GT(e.local, 5 * e.synchronised);
}

TEST(DataParallel, SynchronisedBatchNormMakesTheParsingNetworkEqualTheDoubleBatch) {
  TempDir dir;
  make_dataset("ade20k", dir / "data", 3, 6, 96);
  const Equivalence e = batchnorm_equivalence(
      dir, "ade20k",
      {"--model.arch", "parsing_resnet18dilated_ppm", "--model.num_classes", "150",
       "--model.dropout", "0", "--data.image_size", "80", "--data.resize", "96", "--train.lr",
       "1e-4", "--train.schedule", "poly", "--train.schedule_unit", "iteration"},
      4);
  EXPECT_LT(e.synchronised, 1e-5);
  EXPECT_GT(e.local, 5 * e.synchronised);
}

TEST(DataParallel, SynchronisedBatchNormMakesTheTwoBranchNetworkEqualTheDoubleBatch) {
  TempDir dir;
  const auto synth = make_dataset("ade20k", dir / "data", 3, 6, 160);
  // Semantic maps from the ADE20K annotations; both heads' auxiliary losses on.
  // The fusion's unpadded 3x3 convs need layer4 maps >= 5x5: 144-px crops.
  const Equivalence e = batchnorm_equivalence(
      dir, "ade20k",
      {"--model.arch", "sascene_resnet18", "--model.num_classes",
       std::to_string(synth.class_names.size()), "--model.dropout", "0", "--data.image_size", "144",
       "--data.resize", "160", "--train.lr", "3e-5", "--train.semantic_source", "masks"},
      4);
  EXPECT_LT(e.synchronised, 1e-5);
  EXPECT_GT(e.local, 5 * e.synchronised);
}

TEST(DataParallel, InterruptedAndResumedTwoRankRunEqualsTheUninterruptedOne) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);  // 32 train images: 4 batches per rank
  expect_all_ok(train_ranks(resume_args(dir / "data", dir / "whole"), 2));

  const auto split = resume_args(dir / "data", dir / "split");
  // Stopped mid-epoch (3 of 4 steps), then the same command resumes.
  // Mid-epoch checkpoints (every step here) change nothing of the result.
  expect_all_stopped(train_ranks(
      with(split, {"--train.stop_after_iterations", "3", "--train.checkpoint_every", "1"}), 2));
  const auto ckpt = models::read_checkpoint(dir / "split" / "last.ckpt");
  ASSERT_TRUE(ckpt.training);
  EXPECT_EQ(ckpt.training->world_size, 2);
  EXPECT_EQ(ckpt.training->iteration, 3);
  EXPECT_EQ(ckpt.training->rank_rng_states.size(0), 2);
  expect_all_ok(train_ranks(split, 2));

  expect_same_weights(models::read_checkpoint(dir / "whole" / "last.ckpt").state_dict,
                      models::read_checkpoint(dir / "split" / "last.ckpt").state_dict);
  EXPECT_EQ(metrics_without_timing(dir / "whole" / "metrics.csv"),
            metrics_without_timing(dir / "split" / "metrics.csv"));
  EXPECT_EQ(read_lines(dir / "whole" / "metrics.csv").size(), 3u);
  // One writer: rank 0's train.log, rank 1's own log, no second metrics file.
  EXPECT_TRUE(fs::exists(dir / "split" / "train.log"));
  EXPECT_TRUE(fs::exists(dir / "split" / "train.rank1.log"));
}

// Rank 1 in the background (its pid recorded), rank 0 in a thread; returns
// once `file` exists (a mid-run checkpoint: both ranks are training).
struct TwoRankRun {
  TwoRankRun(const std::vector<std::string>& args, const fs::path& dir, const fs::path& file) {
    pid_file = dir / "rank1.pid";
    rank1_out = dir / "rank1.out";
    const std::string rank1 = command_line(with(args, {"--dist.rank", "1"})) + " > " +
                              rank1_out.string() + " 2>&1 & echo $! > " + pid_file.string();
    EXPECT_EQ(std::system(rank1.c_str()), 0);
    foreground = std::thread([this, args] {
      rank0 = scenery::testing::run_command(command_line(with(args, {"--dist.rank", "0"})));
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(file) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(fs::exists(file));
  }
  pid_t rank1_pid() const { return std::stoi(scenery::testing::read_text(pid_file)); }
  CommandResult wait() {
    foreground.join();
    return rank0;
  }
  fs::path pid_file, rank1_out;
  std::thread foreground;
  CommandResult rank0;
};

std::vector<std::string> long_two_rank_args(const TempDir& dir, double timeout_s) {
  return with(resume_args(dir / "data", dir / "run"),
              {"--train.epochs", "50", "--train.checkpoint_every", "2", "--dist.world_size", "2",
               "--dist.init", "tcp://127.0.0.1:" + std::to_string(scenery::testing::free_port()),
               "--dist.timeout", std::to_string(timeout_s)});
}

TEST(DataParallel, ASignalToOneRankStopsEveryRankAtTheSameIteration) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  TwoRankRun run(long_two_rank_args(dir, 20), dir.path(), dir / "run" / "last.ckpt");
  ASSERT_EQ(::kill(run.rank1_pid(), SIGTERM), 0);
  const CommandResult rank0 = run.wait();
  // Rank 0 was not signalled, yet it stops too, with the interrupted exit code.
  EXPECT_EQ(rank0.exit_code, 3) << rank0.output;
  EXPECT_CONTAINS(rank0.output, "another rank was signalled");
  const auto rank1 = scenery::testing::read_text(run.rank1_out);
  EXPECT_CONTAINS(rank1, "stopped by signal 15");
  // Both stopped after the same step, and last.ckpt holds it.
  const auto iteration = models::read_checkpoint(dir / "run" / "last.ckpt").training->iteration;
  const std::string at = fmt::format("iteration {}: ", iteration);
  EXPECT_CONTAINS(rank0.output, at);
  EXPECT_CONTAINS(rank1, at);
}

TEST(DataParallel, ANonFiniteLossStopsEveryRankNamingTheRanks) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto results = train_ranks(
      with(resume_args(dir / "data", dir / "run"), {"--train.lr", "1e38", "--train.momentum", "0"}),
      2);
  for (const auto& r : results) {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_CONTAINS(r.output, "non-finite on rank 0, 1");
    EXPECT_CONTAINS(r.output, "iteration 2 ");
  }
}

TEST(DataParallel, AnotherWorldSizeResumesAtAnEpochBoundary) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto args = resume_args(dir / "data", dir / "run");
  // Finishing the epoch with 2 ranks, then re-sharding onto 1 rank, works.
  expect_all_ok(train_ranks(with(args, {"--train.epochs", "1"}), 2));
  const auto one = scenery::testing::run_command(command_line(args));
  EXPECT_EQ(one.exit_code, 0) << one.output;
  EXPECT_CONTAINS(one.output, "at the start of epoch 2");
  const auto last = models::read_checkpoint(dir / "run" / "last.ckpt");
  EXPECT_EQ(last.training->epoch, 2);
  EXPECT_EQ(last.training->world_size, 1);
  EXPECT_EQ(read_lines(dir / "run" / "metrics.csv").size(), 3u);
}

// --- WebDataset shards: exact and elastic resume ------------------------------

fs::path pack_train_shards(const fs::path& files, const fs::path& out) {
  const auto r = scenery::testing::run_command(
      scenery::testing::tool_path("scenery-data") + " pack --data.dataset places365 --data.root '" +
      files.string() + "' --out '" + out.string() + "' --shard-samples 7 --log-level warn 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* split : {"val"}) {
    const auto v = scenery::testing::run_command(
        scenery::testing::tool_path("scenery-data") + " pack --data.dataset places365 " +
        "--data.root '" + files.string() + "' --data.split " + split + " --out '" + out.string() +
        "' --shard-samples 7 --log-level warn 2>&1");
    EXPECT_EQ(v.exit_code, 0) << v.output;
  }
  return out;
}

std::vector<std::string> shard_args(const fs::path& shards, const fs::path& run) {
  return with(resume_args(shards, run), {"--data.dataset", "webdataset"});
}

// The samples of epoch 1 in the order one rank's log traced them (log level
// debug), one list per launch (a launch restarts at batch 0).
std::vector<std::vector<std::vector<int64_t>>> traced_batches(const fs::path& log) {
  std::vector<std::vector<std::vector<int64_t>>> launches;
  for (const auto& line : read_lines(log)) {
    const auto at = line.find("epoch 1 batch ");
    if (at == std::string::npos) continue;
    std::istringstream in(line.substr(at + 14));
    int64_t batch = 0;
    std::string word;
    in >> batch >> word;  // "samples"
    if (batch == 0) launches.emplace_back();
    launches.back().emplace_back();
    for (int64_t i; in >> i;)
      launches.back().back().push_back(i);
  }
  return launches;
}

// Global positions of a launch's samples: batch b of rank r holds positions
// offset + (b * B + j) * W + r (data/sampler.h).
void place(std::vector<int64_t>& global, const std::vector<std::vector<int64_t>>& batches,
           int64_t offset, int world, int rank, int64_t batch_size) {
  for (size_t b = 0; b < batches.size(); ++b)
    for (size_t j = 0; j < batches[b].size(); ++j) {
      const int64_t at = offset + (static_cast<int64_t>(b) * batch_size + j) * world + rank;
      ASSERT_LT(at, static_cast<int64_t>(global.size()));
      EXPECT_EQ(global[at], -1) << "position " << at << " trained twice";
      global[at] = batches[b][j];
    }
}

TEST(DataParallel, ShardedRunsResumeExactlyOnOneAndTwoRanks) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);  // 32 train images
  const auto shards = pack_train_shards(dir / "data", dir / "wds");
  for (int world : {1, 2}) {
    SCOPED_TRACE(world);
    const fs::path whole = dir / ("whole" + std::to_string(world));
    const fs::path split = dir / ("split" + std::to_string(world));
    expect_all_ok(train_ranks(shard_args(shards, whole), world));
    expect_all_stopped(train_ranks(
        with(shard_args(shards, split), {"--train.stop_after_iterations", "3"}), world));
    expect_all_ok(train_ranks(shard_args(shards, split), world));
    expect_same_weights(models::read_checkpoint(whole / "last.ckpt").state_dict,
                        models::read_checkpoint(split / "last.ckpt").state_dict);
    EXPECT_EQ(metrics_without_timing(whole / "metrics.csv"),
              metrics_without_timing(split / "metrics.csv"));
  }
}

// Stopped mid-epoch on W ranks and resumed on W': the second launch trains on
// the rest of the same global order, every sample once (drop_last leaves the
// remainder that does not fill a batch on every rank).
TEST(DataParallel, AnotherWorldSizeResumesMidEpochContinuingTheGlobalOrder) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);  // 32 train images
  const auto shards = pack_train_shards(dir / "data", dir / "wds");
  const std::vector<int64_t> order =
      data::epoch_order(32, 0, 0, true, data::kShardShuffleBlock, data::kShardShuffleWindow);
  struct Case {
    int first, second;
    int64_t stop_after, trained;  // steps of the first launch; samples trained in all
  };
  for (const Case c : {Case{2, 1, 2, 32}, Case{1, 2, 3, 28}}) {
    SCOPED_TRACE(fmt::format("{} -> {} ranks", c.first, c.second));
    const fs::path run = dir / fmt::format("run{}{}", c.first, c.second);
    const auto args = with(shard_args(shards, run), {"--train.epochs", "1"});
    expect_all_stopped(
        train_ranks(with(args, {"--train.stop_after_iterations", std::to_string(c.stop_after)}),
                    c.first, 30, "debug"));
    const auto resumed = train_ranks(args, c.second, 30, "debug");
    expect_all_ok(resumed);
    EXPECT_CONTAINS(resumed[0].output, "elastic resume");
    std::vector<int64_t> global(32, -1);
    const int64_t consumed = c.stop_after * 4 * c.first;
    for (int r = 0; r < std::max(c.first, c.second); ++r) {
      const auto launches =
          traced_batches(run / (r == 0 ? "train.log" : fmt::format("train.rank{}.log", r)));
      size_t k = 0;
      if (r < c.first) place(global, launches.at(k++), 0, c.first, r, 4);
      if (r < c.second) place(global, launches.at(k++), consumed, c.second, r, 4);
      EXPECT_EQ(k, launches.size());
    }
    for (int64_t p = 0; p < c.trained; ++p)
      EXPECT_EQ(global[p], order[p]) << "global position " << p;
    for (int64_t p = c.trained; p < 32; ++p)
      EXPECT_EQ(global[p], -1) << p;
  }
}

TEST(DataParallel, ALostRankEndsTheOthersWithinTheTimeoutNamingIt) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  TwoRankRun run(long_two_rank_args(dir, 10), dir.path(), dir / "run" / "last.ckpt");
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(run.rank1_pid(), SIGKILL), 0);
  const CommandResult rank0 = run.wait();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_NE(rank0.exit_code, 0) << rank0.output;
  EXPECT_CONTAINS(rank0.output, "rank 1 is lost");
  EXPECT_LT(seconds, 10 + 5);
  // Whatever last.ckpt holds is whole: it loads.
  const auto ckpt = models::read_checkpoint(dir / "run" / "last.ckpt");
  ASSERT_TRUE(ckpt.training);
  EXPECT_GE(ckpt.training->iteration, 2);
}

}  // namespace
}  // namespace scenery::train::testing

namespace scenery::train::testing {
namespace {

// torchrun as users run it (Debian's 1.13 launcher: --no_python, and -r/-t/--log_dir
// under Python 3.11), its agent serving the store; through scripts/torchrun.py, torchrun's
// own main() made to work on a PyTorch without libuv (Debian 13's), as the README says.
std::string torchrun(const fs::path& logs, const std::string& extra) {
  return "/usr/bin/python3 " + std::string(SCENERY_SOURCE_DIR) +
         "/scripts/torchrun.py --nproc_per_node 2 --no_python -r 1 -t 1 --log_dir " +
         logs.string() + " --master_port " + std::to_string(scenery::testing::free_port()) + " " +
         extra + " ";
}

TEST(DataParallel, TorchrunLaunchesScenerytrain) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const auto r = scenery::testing::run_command(
      torchrun(dir / "logs", "") +
      command_line(with(resume_args(dir / "data", dir / "run"),
                        {"--train.epochs", "1", "--train.stop_after_iterations", "2",
                         "--dist.timeout", "30", "--log-level", "info"})));
  // torchrun reports a worker's non-zero exit as its own failure: 3 (stopped
  // after 2 iterations, resumable) comes back as a failed launch.
  EXPECT_NE(r.exit_code, 0);
  EXPECT_CONTAINS(scenery::testing::read_text(dir / "run" / "train.log"), "data parallel: 2 ranks");
  const auto ckpt = models::read_checkpoint(dir / "run" / "last.ckpt");
  ASSERT_TRUE(ckpt.training);
  EXPECT_EQ(ckpt.training->world_size, 2);
  EXPECT_EQ(ckpt.training->iteration, 2);
  // The same launch command resumes and finishes.
  const auto again = scenery::testing::run_command(
      torchrun(dir / "logs2", "") +
      command_line(with(resume_args(dir / "data", dir / "run"),
                        {"--train.epochs", "1", "--dist.timeout", "30"})));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(models::read_checkpoint(dir / "run" / "last.ckpt").training->epoch, 1);
}

TEST(DataParallel, TorchrunMaxRestartsRecoversFromAKilledRank) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const std::string tool = scenery::testing::tool_path("scenery-train");
  const std::string launch =
      torchrun(dir / "logs", "--max_restarts 1 --monitor_interval 0.2") +
      command_line(with(resume_args(dir / "data", dir / "run"),
                        {"--train.epochs", "8", "--train.checkpoint_every", "2", "--dist.timeout",
                         "10", "--log-level", "info"}));
  CommandResult result;
  std::thread launcher([&] { result = scenery::testing::run_command(launch); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir / "run" / "last.ckpt") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // One worker dies (the workers' command lines start with the tool's path;
  // torchrun's own starts with python).
  const auto killed = scenery::testing::run_command("pkill -KILL -o -f '^" + tool + " .*" +
                                                    (dir / "run").string() + "'");
  launcher.join();
  EXPECT_EQ(killed.exit_code, 0) << killed.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto log = scenery::testing::read_text(dir / "run" / "train.log");
  EXPECT_CONTAINS(log, "resuming");
  const auto last = models::read_checkpoint(dir / "run" / "last.ckpt");
  EXPECT_EQ(last.training->epoch, 8);
  EXPECT_EQ(read_lines(dir / "run" / "metrics.csv").size(), 9u);
}

}  // namespace
}  // namespace scenery::train::testing
