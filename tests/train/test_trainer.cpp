// End-to-end training on tiny synthetic datasets: learning, exact resume,
// fine-tuning, the two-branch and the parsing networks.
#include <gtest/gtest.h>

#include <cmath>

#include "data/catalog_readers.h"
#include "data/shard_pack.h"
#include "models/checkpoint.h"
#include "models/gemm_weight_grad.h"
#include "models/registry.h"
#include "models/winograd_conv.h"
#include "support/events_reader.h"
#include "train/trainer.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

TEST(Trainer, ShortRunLearnsAboveChance) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 16, 64, 11);
  const auto run = dir / "run";
  const auto result = train(with(
      tiny_args(dir / "data", run),
      {"--train.epochs", "6", "--train.optimizer", "adamw", "--train.lr", "0.001",
       "--train.weight_decay", "0.01", "--train.schedule", "constant", "--data.workers", "2"}));
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.epochs_done, 6);
  const auto lines = read_lines(run / "metrics.csv");
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0],
            "epoch,train_loss,lr,val_top1,val_top5,val_mca,val_pixel_acc,val_miou,"
            "images_per_s,data_wait");
  const double first_loss = csv_column(lines[1], 1);
  const double late_loss = (csv_column(lines[5], 1) + csv_column(lines[6], 1)) / 2;
  std::printf("loss %.3f -> %.3f, val top1 %.3f (chance 0.25)\n", first_loss, late_loss,
              result.last_metrics.at("top1"));
  EXPECT_LT(late_loss, first_loss);
  EXPECT_GT(result.last_metrics.at("top1"), 0.5);
  for (const char* f : {"config.cfg", "last.ckpt", "best.ckpt", "train.log"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  const auto ckpt = models::read_checkpoint(run / "best.ckpt");
  EXPECT_EQ(ckpt.meta.num_classes, 4);
  EXPECT_EQ(ckpt.meta.class_names.size(), 4u);
  EXPECT_EQ(ckpt.meta.input_size, 48);
}

// Records what the trainer reports to its observers.
struct CollectingObserver : TrainObserver {
  std::vector<StepReport> steps;
  std::vector<MetricsRow> rows;
  std::vector<bool> validated;
  void on_step(const StepReport& r) override { steps.push_back(r); }
  void on_epoch(const EpochReport& r) override {
    rows.push_back(r.row);
    validated.push_back(r.metrics != nullptr);
  }
};

TEST(Trainer, ObserversSeeEveryStepAndEveryEpochAsMetricsCsvRecordsIt) {
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 6, 64, 5);  // 24 images: 3 batches of 8
  const auto run = dir / "run";
  log::set_level(log::Level::kWarn);
  const auto config = make_config(
      with(tiny_args(dir / "data", run), {"--train.epochs", "2", "--train.accumulate", "2"}));
  Trainer trainer(*config);
  const auto observer = std::make_shared<CollectingObserver>();
  trainer.add_observer(observer);
  const TrainResult result = trainer.run();

  // 3 batches in groups of 2: steps after batches 2 and 3 of each epoch.
  ASSERT_EQ(result.iteration, 4);
  ASSERT_EQ(observer->steps.size(), 4u);
  for (size_t i = 0; i < observer->steps.size(); ++i) {
    const StepReport& step = observer->steps[i];
    EXPECT_EQ(step.iteration, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(step.epoch, static_cast<int64_t>(i) / 2 + 1);
    EXPECT_EQ(step.position, i % 2 == 0 ? 2 : 3);
    EXPECT_EQ(step.num_batches, 3);
    EXPECT_TRUE(step.writer);
    EXPECT_TRUE(std::isfinite(step.loss) && step.loss > 0) << step.loss;
    EXPECT_GT(step.lr, 0);
  }
  // The epoch reports are metrics.csv's rows, validation included.
  const auto lines = read_lines(run / "metrics.csv");
  ASSERT_EQ(lines.size(), 3u);
  ASSERT_EQ(observer->rows.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    const MetricsRow& row = observer->rows[e];
    EXPECT_EQ(row.epoch, static_cast<int64_t>(e) + 1);
    EXPECT_NEAR(row.train_loss, csv_column(lines[e + 1], 1), 1e-4);
    EXPECT_DOUBLE_EQ(row.lr, observer->steps[2 * e + 1].lr);
    ASSERT_TRUE(row.top1.has_value());
    EXPECT_NEAR(*row.top1, csv_column(lines[e + 1], 3), 1e-4);
    EXPECT_TRUE(observer->validated[e]);
  }
  EXPECT_DOUBLE_EQ(*observer->rows.back().top1, result.last_metrics.at("top1"));
}

// Runs `args` to completion in one go, and again in `run_b` interrupted every
// `stop_every` optimizer steps and resumed, then compares weights and metrics.
void expect_exact_resume(const std::vector<std::string>& args_a,
                         const std::vector<std::string>& args_b, int stop_every,
                         int expected_interruptions) {
  const auto a = train(args_a);
  ASSERT_FALSE(a.interrupted);
  int interruptions = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto b =
        train(with(args_b, {"--train.stop_after_iterations", std::to_string(stop_every)}));
    if (!b.interrupted) break;
    ++interruptions;
  }
  EXPECT_EQ(interruptions, expected_interruptions);
  const auto run_a = a.run_dir;
  const auto run_b = run_a.parent_path() / "b";
  const auto ca = models::read_checkpoint(run_a / "last.ckpt");
  const auto cb = models::read_checkpoint(run_b / "last.ckpt");
  expect_same_weights(ca.state_dict, cb.state_dict);
  ASSERT_TRUE(ca.training && cb.training);
  EXPECT_EQ(ca.training->iteration, cb.training->iteration);
  ASSERT_EQ(ca.training->optimizer_state.size(), cb.training->optimizer_state.size());
  for (const auto& [name, slots] : ca.training->optimizer_state) {
    for (const auto& [slot, t] : slots)
      EXPECT_TRUE(torch::equal(t, cb.training->optimizer_state.at(name).at(slot))) << name << slot;
  }
  EXPECT_EQ(metrics_without_timing(run_a / "metrics.csv"),
            metrics_without_timing(run_b / "metrics.csv"));
  EXPECT_EQ(read_lines(run_a / "metrics.csv").size(), read_lines(run_b / "metrics.csv").size());
}

TEST(Trainer, InterruptedAndResumedEqualsUninterruptedSgd) {
  torch::set_num_threads(1);
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  // 32 images / 8 = 4 batches an epoch, 2 epochs; stops after steps 3, 6 (mid-epoch)
  // and resumes with a different loader thread count.
  const auto base = with(tiny_args(dir / "data", dir / "a"),
                         {"--train.nesterov", "true", "--train.no_decay_norm_bias", "true"});
  auto b = with(
      tiny_args(dir / "data", dir / "b"),
      {"--train.nesterov", "true", "--train.no_decay_norm_bias", "true", "--data.workers", "2"});
  expect_exact_resume(base, b, 3, 2);
}

// Every augmentation of the modern recipe at once (crop ranges, colour
// jitter, random erasing, Mixup and CutMix): a resumed run equals an
// uninterrupted one, so every draw depends on (seed, epoch, sample / batch).
TEST(Trainer, InterruptedAndResumedEqualsUninterruptedWithEveryAugmentation) {
  torch::set_num_threads(1);
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const std::vector<std::string> augment = {"--data.crop_scale",
                                            "0.3,1",
                                            "--data.brightness",
                                            "0.4",
                                            "--data.hue",
                                            "0.1",
                                            "--data.random_erasing",
                                            "0.5",
                                            "--train.mixup_alpha",
                                            "0.4",
                                            "--train.cutmix_alpha",
                                            "1.0",
                                            "--train.label_smoothing",
                                            "0.1"};
  expect_exact_resume(with(tiny_args(dir / "data", dir / "a"), augment),
                      with(tiny_args(dir / "data", dir / "b"), augment), 3, 2);
}

TEST(Trainer, InterruptedAndResumedEqualsUninterruptedAdamWAccumulated) {
  torch::set_num_threads(1);
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const std::vector<std::string> extra{"--train.optimizer",
                                       "adamw",
                                       "--train.lr",
                                       "0.001",
                                       "--train.schedule",
                                       "cosine",
                                       "--train.schedule_unit",
                                       "iteration",
                                       "--train.warmup_epochs",
                                       "0.5",
                                       "--train.accumulate",
                                       "2",
                                       "--train.clip_grad_norm",
                                       "1.0",
                                       "--train.label_smoothing",
                                       "0.1"};
  // 2 steps an epoch (4 batches, 2 accumulated): stopping every step stops at
  // each epoch's middle and at each epoch's end (before validation).
  expect_exact_resume(
      with(tiny_args(dir / "data", dir / "a"), extra),
      with(with(tiny_args(dir / "data", dir / "b"), extra), {"--data.workers", "2"}), 1, 4);
}

// A fast-convolution switch (train.cpu_winograd, train.cpu_gemm_wgrad)
// changes the roundings of `layer`'s weights in one run, reproducibly, not the
// training, and leaves the process-wide setting as it found it.
void expect_switch_changes_only_roundings(const std::string& option, const std::string& layer,
                                          bool (*enabled)()) {
  torch::set_num_threads(1);
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  auto run = [&](const std::string& run_dir, const std::string& on) {
    train(with(tiny_args(dir / "data", dir / run_dir), {"--train.epochs", "1", option, on}));
    return models::read_checkpoint(dir / run_dir / "last.ckpt").state_dict;
  };
  ASSERT_FALSE(enabled());
  const auto direct = run("direct", "false");
  const auto fast = run("fast", "true");
  const auto fast_again = run("fast_again", "true");
  EXPECT_FALSE(enabled()) << "the run restores the caller's setting";
  expect_same_weights(fast, fast_again);
  const auto* a = direct.find(layer);
  const auto* b = fast.find(layer);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(torch::equal(*a, *b)) << option << " computed different roundings";
  EXPECT_LT((*a - *b).abs().max().item<double>(), 1e-2) << "but the same training";
}

// Layer1 at 48-px crops is 12x12, inside the Winograd rule.
TEST(Trainer, CpuWinogradSwitchesTheRunsConvolutions) {
  if (!models::winograd_available()) GTEST_SKIP() << "no oneDNN Winograd kernels here";
  expect_switch_changes_only_roundings("--train.cpu_winograd", "layer1.0.conv1.weight",
                                       models::winograd_training_enabled);
}

// Layer3 at 48-px crops is 3x3 with 256 channels: Winograd leaves it.
TEST(Trainer, CpuGemmWeightGradSwitchesTheRunsConvolutions) {
  if (!models::gemm_weight_grad_available()) GTEST_SKIP() << "this build has no oneDNN";
  expect_switch_changes_only_roundings("--train.cpu_gemm_wgrad", "layer3.0.conv2.weight",
                                       models::gemm_weight_grad_training_enabled);
}

TEST(Trainer, FineTuningReplacesTheHeadAndKeepsTheBody) {
  TempDir dir;
  make_dataset("places365", dir / "src", 4, 8, 64);
  make_dataset("mit67", dir / "mit", 3, 8, 64);
  train(with(tiny_args(dir / "src", dir / "source"), {"--train.epochs", "1"}));
  const auto source = models::read_checkpoint(dir / "source" / "last.ckpt");
  // Body learning rate 0 (and no decay): the body must stay the source's exactly,
  // while the new 3-way head trains.
  const auto result =
      train(with(tiny_args(dir / "mit", dir / "ft", 3),
                 {"--data.dataset", "mit67", "--train.val_split", "test", "--train.epochs", "1",
                  "--model.weights", (dir / "source" / "last.ckpt").string(),
                  "--train.body_lr_mult", "0", "--train.weight_decay", "0"}));
  EXPECT_EQ(result.epochs_done, 1);
  const auto tuned = models::read_checkpoint(dir / "ft" / "last.ckpt");
  EXPECT_EQ(tuned.meta.num_classes, 3);
  auto model = models::create_model("resnet18", 3);
  size_t body = 0;
  for (const auto& p : model.named_parameters()) {
    if (model.is_head_parameter(p.key())) {
      EXPECT_EQ(tuned.state_dict[p.key()].size(0), 3) << p.key();
      continue;
    }
    ++body;
    EXPECT_TRUE(torch::equal(tuned.state_dict[p.key()], source.state_dict[p.key()])) << p.key();
  }
  EXPECT_GT(body, 50u);
}

// A torchrun restart re-runs the launch command unchanged, model.weights
// included: resuming wins when last.ckpt records that very weights file.
TEST(Trainer, TheSameFineTuningCommandResumesAndAnotherWeightsFileIsRefused) {
  TempDir dir;
  make_dataset("places365", dir / "src", 4, 8, 64);
  make_dataset("mit67", dir / "mit", 3, 8, 64);
  train(with(tiny_args(dir / "src", dir / "source"), {"--train.epochs", "1"}));
  fs::copy_file(dir / "source" / "last.ckpt", dir / "weights.ckpt");
  const auto ft = [&](const std::string& run, const fs::path& weights) {
    return with(tiny_args(dir / "mit", dir / run, 3),
                {"--data.dataset", "mit67", "--train.val_split", "test", "--train.epochs", "2",
                 "--model.weights", weights.string()});
  };
  const auto whole = train(ft("whole", dir / "weights.ckpt"));
  EXPECT_FALSE(whole.interrupted);
  const auto stopped =
      train(with(ft("split", dir / "weights.ckpt"), {"--train.stop_after_iterations", "3"}));
  EXPECT_TRUE(stopped.interrupted);
  const auto ckpt = models::read_checkpoint(dir / "split" / "last.ckpt");
  EXPECT_EQ(ckpt.training->init_weights, (dir / "weights.ckpt").string());
  EXPECT_EQ(ckpt.training->init_weights_sha256.size(), 64u);
  const auto resumed = train(ft("split", dir / "weights.ckpt"));
  EXPECT_FALSE(resumed.interrupted);
  expect_same_weights(models::read_checkpoint(dir / "whole" / "last.ckpt").state_dict,
                      models::read_checkpoint(dir / "split" / "last.ckpt").state_dict);
  EXPECT_EQ(metrics_without_timing(dir / "whole" / "metrics.csv"),
            metrics_without_timing(dir / "split" / "metrics.csv"));
  // Another weights file with the same run directory stays the clear error it was.
  train(with(tiny_args(dir / "src", dir / "other_source"),
             {"--train.epochs", "1", "--train.seed", "5"}));
  try {
    train(with(ft("split", dir / "other_source" / "last.ckpt"), {"--train.epochs", "3"}));
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "mutually exclusive");
    EXPECT_CONTAINS(e.what(), "not the file that started this run");
  }
}

// ADE20K's train and val splits as WebDataset shards (images, masks, top-3
// maps when present, scene labels): the two-branch and parsing networks train
// from shards here, from the files in the quickstart (Quickstart.ReducedEndToEnd).
fs::path ade20k_shards(const fs::path& ade, const fs::path& out) {
  for (const char* split : {"train", "val"}) {
    data::CatalogSpec spec;
    spec.dataset = "ade20k";
    spec.root = ade;
    spec.split = split;
    data::PackOptions o;
    o.out = out;
    o.shard_samples = 5;
    data::pack_shards(data::open_catalog(spec), o);
  }
  return out;
}

// The two-branch network reads its precomputed top-3 maps from the shards
// (the quickstart feeds it annotation masks from the files).
TEST(Trainer, TwoBranchTrainsOnPrecomputedMapsInShards) {
  TempDir dir;
  data::SynthOptions synth;
  synth.layout = "ade20k";
  synth.out = dir / "ade";
  synth.classes = 3;
  synth.per_class = 8;
  synth.size = 64;
  synth.seed = 3;
  synth.semantic_maps = true;
  const auto made = data::write_synthetic_dataset(synth);
  const auto classes = static_cast<int>(made.class_names.size());
  const auto shards = ade20k_shards(dir / "ade", dir / "wds");
  const auto result =
      train(with(tiny_args(shards, dir / "run", classes),
                 {"--data.dataset", "webdataset", "--model.arch", "sascene_resnet18",
                  "--train.epochs", "1", "--train.semantic_source", "top3",
                  // The fusion's unpadded 3x3 convs need layer4 maps >= 5x5.
                  "--data.image_size", "144", "--data.resize", "160", "--data.batch_size", "4"}));
  EXPECT_EQ(result.epochs_done, 1);
  EXPECT_TRUE(result.last_metrics.count("top1"));
  EXPECT_TRUE(result.last_metrics.count("mca"));
}

TEST(Trainer, TwoBranchTrainsOnImagesWithoutMapsUsingAParsingCheckpoint) {
  TempDir dir;
  make_dataset("places365", dir / "places", 3, 4, 64);
  // Any parsing network will do to exercise the path; a trained one gives useful maps.
  torch::manual_seed(1);
  const auto parser = models::create_model("parsing_resnet18dilated_ppm", 150);
  models::save_checkpoint(dir / "parser.ckpt", parser, {});
  const auto args =
      with(tiny_args(dir / "places", dir / "run", 3),
           {"--model.arch", "sascene_resnet18", "--train.epochs", "1", "--data.image_size", "144",
            "--data.resize", "160", "--data.batch_size", "4"});
  // Places365 has neither annotations nor top-3 maps: without a parser, a clear error.
  try {
    train(args);
    FAIL() << "trained a two-branch net without semantic maps";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.semantic_checkpoint"), std::string::npos)
        << e.what();
  }
  const auto result =
      train(with(args, {"--train.semantic_checkpoint", (dir / "parser.ckpt").string()}));
  EXPECT_EQ(result.epochs_done, 1);
  EXPECT_TRUE(result.last_metrics.count("top1"));
  // A classifier is not a parser.
  models::save_checkpoint(dir / "classifier.ckpt", models::create_model("resnet18", 3), {});
  EXPECT_THROW(train(with(args, {"--train.semantic_checkpoint", (dir / "classifier.ckpt").string(),
                                 "--train.run_dir", (dir / "run2").string()})),
               CheckpointError);
}

TEST(Trainer, ParsingTrainsFromShardsWithPolyScheduleAndReportsMiou) {
  TempDir dir;
  make_dataset("ade20k", dir / "ade", 3, 4, 64);
  const auto shards = ade20k_shards(dir / "ade", dir / "wds");
  const auto result =
      train(with(tiny_args(shards, dir / "run", 150),
                 {"--data.dataset", "webdataset", "--model.arch", "parsing_resnet18dilated_ppm",
                  "--train.epochs", "1", "--train.schedule", "poly", "--train.schedule_unit",
                  "iteration", "--data.batch_size", "4", "--train.lr", "0.01"}));
  EXPECT_EQ(result.epochs_done, 1);
  ASSERT_TRUE(result.last_metrics.count("miou"));
  EXPECT_GE(result.last_metrics.at("pixel_acc"), 0.0);
  const auto lines = read_lines(dir / "run" / "metrics.csv");
  ASSERT_EQ(lines.size(), 2u);
  // The last step's lr: poly (1 - (T-1)/T)^0.9 of 0.01, T = 3 steps (12 images / 4).
  EXPECT_NEAR(csv_column(lines[1], 2), 0.01 * std::pow(1.0 / 3.0, 0.9), 1e-7);
  // Its pictures: image | prediction | truth side by side, no confusion matrix.
  const auto events = observe::testing::read_events(dir / "run");
  EXPECT_EQ(observe::testing::of_kind(events, "scalar", "val/miou").size(), 1u);
  EXPECT_TRUE(observe::testing::of_kind(events, "image", "val/confusion").empty());
  const auto example = observe::testing::of_kind(events, "image", "val/example_0");
  ASSERT_EQ(example.size(), 1u);
  EXPECT_EQ(std::stoi(example[0][3]), 3 * 224);  // three 48-px pictures, enlarged
}

}  // namespace
}  // namespace scenery::train::testing
