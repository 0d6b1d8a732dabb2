// The evaluator end to end on generated datasets: its report, and the scorer
// reading back the submissions it writes reproduces its numbers exactly.
#include "eval/evaluator.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/catalog_readers.h"
#include "data/synth.h"
#include "eval/parsing_submission.h"
#include "eval/places_submission.h"
#include "eval_test_helpers.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "support/events_reader.h"
#include "support/test_support.h"

namespace scenery::eval {
namespace {
namespace fs = std::filesystem;
using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::tool_path;

data::Catalog open_split(const std::string& dataset, const fs::path& root,
                         const std::string& split) {
  data::CatalogSpec spec;
  spec.dataset = dataset;
  spec.root = root;
  spec.split = split;
  return data::open_catalog(spec);
}

double json_number(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) throw std::runtime_error("no key " + key + " in\n" + json);
  return std::stod(json.substr(at + key.size() + 4));
}

double printed_number(const std::string& output, const std::string& label) {
  const auto at = output.find(label + " ");
  if (at == std::string::npos) throw std::runtime_error("no '" + label + "' in\n" + output);
  return std::stod(output.substr(at + label.size() + 1));
}

TEST(Evaluator, PlacesReportAndSubmissionAgreeWithTheScorer) {
  TempDir dir;
  write_synth("places365", dir / "places", 6, 2, 64);

  torch::manual_seed(0);
  auto model = models::create_model("resnet18", 6);
  models::CheckpointMeta meta;
  meta.input_size = 48;
  models::save_checkpoint(dir / "m.ckpt", model, meta);

  const std::string common = fmt::format(
      " --data.dataset places365 --data.root {} --data.resize 56 --data.batch_size 4 "
      "--eval.checkpoint {} ",
      (dir / "places").string(), (dir / "m.ckpt").string());
  const auto val =
      run_command(tool_path("scenery-eval") + " run" + common + "--data.split val --eval.out " +
                  (dir / "val").string() + " --eval.submission " + (dir / "val.txt").string());
  ASSERT_EQ(val.exit_code, 0) << val.output;
  const std::string json = read_text(dir / "val" / "results.json");
  for (const char* f : {"per_class.csv", "confusion.csv", "confusion.png", "config.cfg"}) {
    EXPECT_TRUE(fs::exists(dir / "val" / f)) << f;
  }
  EXPECT_NE(json.find("\"checkpoint_sha256\": \""), std::string::npos) << json;
  EXPECT_NE(json.find("\"crop_size\": 48"), std::string::npos) << "crop from checkpoint meta";

  const auto score =
      score_places_submission(dir / "val.txt", dir / "places" / "places365_val.txt", 6);
  EXPECT_DOUBLE_EQ(score.top1(), json_number(json, "top1"));
  EXPECT_DOUBLE_EQ(score.top5(), json_number(json, "top5"));
  EXPECT_EQ(score.images, static_cast<int64_t>(json_number(json, "images")));

  // The same numbers for TensorBoard and scripts, at step 0 (no training state).
  const auto events = observe::testing::read_events(dir / "val");
  for (const char* metric : {"top1", "top5", "mca"}) {
    const auto scalar = observe::testing::of_kind(events, "scalar", std::string("eval/") + metric);
    ASSERT_EQ(scalar.size(), 1u) << metric;
    EXPECT_EQ(scalar[0][1], "0");
    EXPECT_NEAR(std::stod(scalar[0][3]), json_number(json, metric), 1e-6) << metric;
  }
  EXPECT_EQ(observe::testing::of_kind(events, "image", "eval/confusion").size(), 1u);
  EXPECT_EQ(observe::testing::of_kind(events, "text", "config").size(), 1u);
  const std::string jsonl = read_text(dir / "val" / "metrics.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 1) << jsonl;
  EXPECT_NE(jsonl.find("\"eval/top1\":"), std::string::npos) << jsonl;

  // The scorer's command line prints the same numbers.
  const auto scored = run_command(tool_path("scenery-eval") + " score --num-classes 6 --places " +
                                  (dir / "val.txt").string() + " --ground-truth " +
                                  (dir / "places" / "places365_val.txt").string() + " --json " +
                                  (dir / "score.json").string());
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_NEAR(printed_number(scored.output, "top-1 accuracy"), json_number(json, "top1"), 1e-4);
  // ... and its JSON holds them at full precision (round-trip exact).
  const std::string score_json = read_text(dir / "score.json");
  EXPECT_EQ(json_number(score_json, "top1_accuracy"), score.top1()) << score_json;
  EXPECT_EQ(json_number(score_json, "top5_accuracy"), score.top5()) << score_json;
  EXPECT_EQ(json_number(score_json, "images"), static_cast<double>(score.images));
  EXPECT_NE(score_json.find("\"top_n_error\": ["), std::string::npos) << score_json;

  // The test split has no labels: a submission and a report without metrics.
  const auto test =
      run_command(tool_path("scenery-eval") + " run" + common +
                  "--data.split test --eval.crop ten --eval.out " + (dir / "test").string() +
                  " --eval.submission " + (dir / "test.txt").string());
  ASSERT_EQ(test.exit_code, 0) << test.output;
  const std::string lines = read_text(dir / "test.txt");
  EXPECT_EQ(lines.rfind("Places365_test_00000001.jpg ", 0), 0u) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'),
            static_cast<long>(open_split("places365", dir / "places", "test").size()));
  EXPECT_EQ(read_text(dir / "test" / "results.json").find("\"metrics\""), std::string::npos);
}

TEST(Evaluator, TwoBranchOnPlacesTakesItsSemanticMapsFromAParsingCheckpoint) {
  TempDir dir;
  write_synth("places365", dir / "places", 4, 1, 64);
  torch::manual_seed(0);
  models::CheckpointMeta meta;
  meta.input_size = 144;
  models::save_checkpoint(dir / "two.ckpt", models::create_model("sascene_resnet18", 4), meta);
  models::save_checkpoint(dir / "parser.ckpt",
                          models::create_model("parsing_resnet18dilated_ppm", 150), {});
  const std::string common = fmt::format(
      " --data.dataset places365 --data.root {} --data.split val --data.resize 160 "
      "--data.batch_size 4 --eval.checkpoint {} --eval.out {} ",
      (dir / "places").string(), (dir / "two.ckpt").string(), (dir / "out").string());
  // No annotations, no top-3 maps and no parser: the error names the option to set.
  const auto refused = run_command(tool_path("scenery-eval") + " run" + common);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("eval.semantic_checkpoint"), std::string::npos) << refused.output;

  const auto ran = run_command(tool_path("scenery-eval") + " run" + common +
                               "--eval.semantic_checkpoint " + (dir / "parser.ckpt").string());
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  const std::string json = read_text(dir / "out" / "results.json");
  EXPECT_NE(json.find("\"semantic\": \"parsing "), std::string::npos) << json;
  EXPECT_EQ(static_cast<size_t>(json_number(json, "images")),
            open_split("places365", dir / "places", "val").size());
}

TEST(Evaluator, TenCropAveragesTheLogitsOfTenCrops) {
  TempDir dir;
  write_synth("places365", dir / "places", 5, 1, 64);
  torch::manual_seed(1);
  auto model = models::create_model("resnet18", 5);
  const auto catalog = open_split("places365", dir / "places", "val");

  data::LoaderOptions o;
  o.batch_size = 3;
  o.workers = 1;
  o.mode = data::LoaderMode::kTenCrop;
  o.eval.resize = 56;
  o.eval.crop = 48;
  PlacesSubmissionWriter ten(5);
  evaluate_scenes(model, catalog, o, &ten);
  ten.write(dir / "ten.txt");

  // Independent: average the logits of the ten crops by hand.
  model.eval();
  torch::NoGradGuard no_grad;
  data::Loader loader(catalog, o);
  loader.start_epoch(0);
  PlacesSubmissionWriter by_hand(5);
  while (auto b = loader.next()) {
    std::vector<torch::Tensor> per_crop;
    for (int c = 0; c < 10; ++c)
      per_crop.push_back(model.forward(b->images.select(1, c)).logits);
    std::vector<std::string> names;
    for (int64_t i = 0; i < b->size(); ++i) {
      names.push_back(fs::path(catalog.image_path(b->indices[i].item<int64_t>())).filename());
    }
    by_hand.add(names, torch::stack(per_crop).mean(0));
  }
  by_hand.write(dir / "hand.txt");
  EXPECT_EQ(read_text(dir / "ten.txt"), read_text(dir / "hand.txt"));
}

TEST(Evaluator, ParsingSubmissionScoresExactlyAsTheEvaluator) {
  TempDir dir;
  write_synth("ade20k", dir / "ade", 3, 1, 48);
  const auto catalog = open_split("ade20k", dir / "ade", "val");
  ASSERT_GT(catalog.size(), 0u);

  torch::manual_seed(2);
  auto model = models::create_model("parsing_resnet18dilated_ppm", 150);
  ParsingProtocol protocol;
  protocol.scales = {0.75, 1.0};
  protocol.flip = true;
  protocol.examples = 2;
  const auto result = evaluate_parsing(model, catalog, protocol, dir / "pred");
  ASSERT_TRUE(result.meter.has_value());
  EXPECT_EQ(result.images, static_cast<int64_t>(catalog.size()));
  // The first two images pictured: image | prediction | truth, enlarged, captioned.
  ASSERT_EQ(result.examples.size(), std::min<size_t>(2, catalog.size()));
  const cv::Mat& strip = result.examples[0];
  EXPECT_GE(strip.rows, 224 + 24);  // 48 px synth images enlarged, a caption under them
  EXPECT_GE(strip.cols, 224);
  EXPECT_EQ(strip.type(), CV_8UC3);

  const auto scored =
      score_parsing_folder(dir / "pred", dir / "ade" / "annotations" / "validation");
  EXPECT_EQ(scored.labelled_pixels(), result.meter->labelled_pixels());
  EXPECT_DOUBLE_EQ(scored.pixel_accuracy(), result.meter->pixel_accuracy());
  EXPECT_DOUBLE_EQ(scored.mean_iou(), result.meter->mean_iou());
}

TEST(Evaluator, MismatchedClassCountIsExplained) {
  TempDir dir;
  write_synth("places365", dir / "places", 4, 1, 64);
  auto model = models::create_model("resnet18", 7);
  const auto catalog = open_split("places365", dir / "places", "val");
  try {
    evaluate_scenes(model, catalog, data::LoaderOptions{});
    FAIL();
  } catch (const EvalError& e) {
    EXPECT_NE(std::string(e.what()).find("predicts 7 classes but places365 val has 4"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace scenery::eval
