#include "eval/tools/eval_tool.h"

#include <fmt/core.h>

#include <sstream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "data/catalog_readers.h"
#include "data/data_options.h"
#include "data/loader.h"
#include "distributed/collectives.h"
#include "distributed/launch.h"
#include "distributed/process_group.h"
#include "eval/eval_options.h"
#include "eval/evaluator.h"
#include "eval/parsing_submission.h"
#include "eval/report.h"
#include "eval/semantic_provider.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "observe/run_recorder.h"

namespace scenery::eval {
namespace fs = std::filesystem;

namespace {

// The metrics (and the confusion matrix) as a TensorBoard event file and
// metrics.jsonl in the output folder, at the checkpoint's training iteration:
// evaluations of a run's checkpoints line up on one axis.
// Pictures: the classifier's confusion matrix, the parsing network's examples.
void record_evaluation(const fs::path& out, const Config& config, int64_t step,
                       observe::Scalars scalars, const cv::Mat& confusion,
                       const std::vector<cv::Mat>& examples = {}) {
  observe::RunRecorder recorder(out, {});
  recorder.text(step, "config", "```\n" + config.dump() + "```");
  recorder.scalars(step, -1, std::move(scalars));
  if (!confusion.empty()) recorder.image(step, "eval/confusion", confusion);
  for (size_t i = 0; i < examples.size(); ++i)
    recorder.image(step, fmt::format("eval/example_{}", i), examples[i]);
}

// Bare state dicts and exported weights carry no training state: step 0.
int64_t training_iteration(const models::Checkpoint& checkpoint) {
  return checkpoint.training ? checkpoint.training->iteration : 0;
}

}  // namespace

int run_eval_tool(const std::string& program, const std::vector<std::string>& args) {
  Config config(program, "evaluate a checkpoint on a dataset split and write its report");
  add_common_options(config);
  data::add_data_options(config);
  add_eval_options(config);
  dist::add_dist_options(config);
  if (auto code = parse_or_exit(config, args)) return *code;

  const std::string checkpoint_path = config.get<std::string>("eval.checkpoint");
  if (checkpoint_path.empty())
    throw UsageError("give the checkpoint to evaluate: --eval.checkpoint FILE");
  const fs::path out = config.get<std::string>("eval.out");
  const auto branches =
      branch_choices().at("eval.branches", config.get<std::string>("eval.branches"));
  const std::string crop = config.get<std::string>("eval.crop");
  const auto scales = config.get_list<double>("eval.scales");
  // Data parallel (torchrun, Slurm or dist.*): each rank evaluates its shard,
  // rank 0 merges and writes everything.
  const dist::Launch launch =
      dist::resolve_launch(dist::launch_options_from_config(config), dist::process_environment());
  const bool writer = launch.rank == 0;
  if (writer) config.write_resolved(out);  // also proves the output folder is writable
  if (!writer) log::set_console_level(log::Level::kWarn);
  const torch::Device device =
      dist::rank_device("eval.device", config.get<std::string>("eval.device"), launch.local_rank);
  const auto group = launch.distributed() ? dist::ProcessGroup::create(launch, device) : nullptr;

  models::Checkpoint checkpoint = models::read_checkpoint(checkpoint_path);
  if (checkpoint.meta.arch.empty()) {
    throw CheckpointError(
        fmt::format("'{}' holds bare weights without an architecture; convert it "
                    "with scripts/convert_places365_checkpoint.py",
                    checkpoint_path));
  }
  models::SceneModel model =
      models::create_model(checkpoint.meta.arch, checkpoint.meta.num_classes);
  models::load_state_dict(model, checkpoint.state_dict, models::LoadMode::kStrict, checkpoint_path);
  model.to(device);
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  log::info("evaluating {} ({} classes) on {} {}: {} images", checkpoint.meta.arch,
            checkpoint.meta.num_classes, catalog.dataset(), catalog.split(), catalog.size());

  EvalContext context;
  context.arch = checkpoint.meta.arch;
  context.checkpoint = checkpoint_path;
  context.checkpoint_sha256 = sha256_file(checkpoint_path);
  context.dataset = catalog.dataset();
  context.root = catalog.root().string();
  context.split = catalog.split();
  context.mean = checkpoint.meta.input_mean;
  context.std = checkpoint.meta.input_std;
  context.branches = config.get<std::string>("eval.branches");
  const std::string submission = config.get<std::string>("eval.submission");

  if (model.kind() == models::ModelKind::kParsing) {
    ParsingProtocol protocol;
    protocol.scales = scales;
    protocol.flip = config.get<bool>("eval.flip");
    protocol.normalize = checkpoint_normalization(checkpoint.meta);
    protocol.num_classes = static_cast<int>(model.num_classes());
    context.crop = "whole image";
    context.scales = scales;
    context.flip = protocol.flip;
    protocol.rank = launch.rank;
    protocol.world_size = launch.world_size;
    protocol.max_image_pixels = config.get<int64_t>("data.max_image_pixels");
    protocol.examples = launch.rank == 0 ? config.get<int>("eval.examples") : 0;
    auto result = evaluate_parsing(model, catalog, protocol, submission);
    if (result.meter) dist::merge_meter(*result.meter, group.get());
    // also: every PNG is written
    result.images = dist::sum_over_ranks(result.images, group.get());
    if (!writer) return 0;
    write_parsing_report(out, result, catalog.object_names(), context);
    if (result.meter) {
      const auto& m = *result.meter;
      record_evaluation(out, config, training_iteration(checkpoint),
                        {{"eval/pixel_acc", m.pixel_accuracy()},
                         {"eval/miou", m.mean_iou()},
                         {"eval/score", m.challenge_score()}},
                        {}, result.examples);
      fmt::print("pixel accuracy {:.4f}\nmean IoU {:.4f}\nscore {:.4f}\n",
                 result.meter->pixel_accuracy(), result.meter->mean_iou(),
                 result.meter->challenge_score());
      fmt::print("mean IoU over the {} classes present {:.4f}\n", result.meter->classes_present(),
                 result.meter->mean_iou_present());
    }
    if (!submission.empty() && config.get<bool>("eval.zip")) {
      zip_parsing_submission(submission, fs::path(submission).string() + ".zip");
      fmt::print("submission {}.zip ({} PNGs)\n", submission, result.images);
    }
  } else {
    data::LoaderOptions options = data::loader_options_from_config(config, /*train=*/false);
    if (config.source("data.image_size") == "default")
      options.eval.crop = static_cast<int>(checkpoint.meta.input_size);
    options.mode = crop == "ten" ? data::LoaderMode::kTenCrop : data::LoaderMode::kEval;
    options.normalize = checkpoint_normalization(checkpoint.meta);
    SemanticProvider semantic;
    if (model.kind() == models::ModelKind::kTwoBranch && branches != models::Branches::kRgbOnly) {
      semantic = resolve_semantic_input(
          "eval.semantic", config.get<std::string>("eval.semantic"), "eval.semantic_checkpoint",
          config.get<std::string>("eval.semantic_checkpoint"), catalog, options, device);
      context.semantic = semantic.computes_maps()
                             ? "parsing " + config.get<std::string>("eval.semantic_checkpoint")
                         : options.semantic == data::SemanticSource::kTop3 ? "top3"
                                                                           : "masks";
    }
    context.crop = crop;
    context.resize = options.eval.resize;
    context.crop_size = options.eval.crop;
    options.rank = launch.rank;
    options.world_size = launch.world_size;
    std::optional<PlacesSubmissionWriter> rows;
    if (!submission.empty()) rows.emplace(model.num_classes());
    auto result =
        evaluate_scenes(model, catalog, options, rows ? &*rows : nullptr, branches, semantic);
    if (result.meter) dist::merge_meter(*result.meter, group.get());
    result.images = dist::sum_over_ranks(result.images, group.get());
    result.skipped = dist::sum_over_ranks(result.skipped, group.get());
    std::optional<PlacesSubmissionWriter> all_rows = std::move(rows);
    if (group && all_rows) {
      const auto texts = dist::gather_bytes_over_ranks(all_rows->text(), group.get());
      all_rows.emplace(model.num_classes());
      for (const auto& text : texts)
        all_rows->add_text(text);
    }
    if (!writer) return 0;
    const auto& names =
        checkpoint.meta.class_names.empty() ? catalog.class_names() : checkpoint.meta.class_names;
    write_scene_report(out, result, names, context);
    if (result.meter) {
      const auto& m = *result.meter;
      record_evaluation(out, config, training_iteration(checkpoint),
                        {{"eval/top1", m.topk(1)},
                         {"eval/top2", m.topk(2)},
                         {"eval/top5", m.topk(5)},
                         {"eval/mca", m.mean_class_accuracy()}},
                        confusion_picture(m, names));
      fmt::print("images {}\ntop-1 {:.4f}\ntop-2 {:.4f}\ntop-5 {:.4f}\nMCA {:.4f} ({})\n",
                 m.count(), m.topk(1), m.topk(2), m.topk(5), m.mean_class_accuracy(),
                 mca_convention_name(McaConvention::kPresentClasses));
    }
    if (result.skipped) fmt::print("skipped {} unreadable images\n", result.skipped);
    if (all_rows) {
      all_rows->write(submission);
      fmt::print("submission {} ({} lines)\n", submission, all_rows->size());
    }
  }
  fmt::print("report {}\n", (out / "results.json").string());
  return 0;
}

}  // namespace scenery::eval
