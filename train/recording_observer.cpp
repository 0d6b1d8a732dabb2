#include "train/recording_observer.h"

#include <fmt/core.h>

#include "train/validation_pictures.h"

namespace scenery::train {
namespace {

observe::RecorderOptions recorder_options(const RecordingOptions& options, int64_t resume_step) {
  observe::RecorderOptions o;
  o.flush_s = options.flush_s;
  o.resume_step = resume_step;
  return o;
}

void add_metrics(observe::Scalars& scalars, const std::string& prefix, const Metrics* metrics) {
  if (!metrics) return;
  for (const auto& [key, value] : *metrics)
    scalars.emplace_back(prefix + key, value);
}

}  // namespace

void add_log_options(Config& c) {
  c.section("log", "[log] what a run records for watching it (TensorBoard, metrics.jsonl)");
  const RecordingOptions d;
  c.add<bool>("log.record", d.enabled,
              "write a TensorBoard event file and metrics.jsonl into the run directory");
  c.add<int>("log.every", d.every,
             "optimizer steps between the train/* scalars; 0 = at epoch ends only",
             Bounds::at_least(0));
  c.add<double>("log.flush_s", d.flush_s, "seconds between flushes of the recorded files",
                Bounds::above(0));
  c.add<bool>("log.images", d.images,
              "pictures at validation: the confusion matrix, and examples with their class "
              "activation maps (classifiers) or predicted and true masks (parsing)");
  c.add<int>("log.examples", d.examples, "validation images pictured with log.images",
             Bounds::within(0, 64));
}

RecordingOptions recording_options_from_config(const Config& c) {
  RecordingOptions o;
  o.enabled = c.get<bool>("log.record");
  o.every = c.get<int>("log.every");
  o.flush_s = c.get<double>("log.flush_s");
  o.images = c.get<bool>("log.images");
  o.examples = c.get<int>("log.examples");
  return o;
}

RecordingObserver::RecordingObserver(const std::filesystem::path& run_dir,
                                     const RecordingOptions& options, int64_t resume_step,
                                     const std::string& config_text)
    : options_(options), recorder_(run_dir, recorder_options(options, resume_step)) {
  // Markdown: a code block keeps the INI text as it is.
  recorder_.text(std::max<int64_t>(0, resume_step), "config", "```\n" + config_text + "```");
}

void RecordingObserver::on_step(const StepReport& r) {
  if (!r.writer || options_.every <= 0 || r.iteration % options_.every != 0) return;
  observe::Scalars scalars = {{"train/loss", r.loss},
                              {"train/lr", r.lr},
                              {"train/images_per_s", r.images_per_s},
                              {"train/data_wait", r.data_wait}};
  if (r.grad_norm >= 0) scalars.emplace_back("train/grad_norm", r.grad_norm);
  recorder_.scalars(r.iteration, r.epoch, std::move(scalars));
}

void RecordingObserver::on_epoch(const EpochReport& r) {
  if (!r.writer) return;
  observe::Scalars scalars = {{"epoch/train_loss", r.row.train_loss},
                              {"epoch/lr", r.row.lr},
                              {"epoch/images_per_s", r.row.images_per_s},
                              {"epoch/data_wait", r.row.data_wait}};
  add_metrics(scalars, "val/", r.metrics);
  add_metrics(scalars, "val_ema/", r.ema_metrics);
  recorder_.scalars(r.iteration, r.row.epoch, std::move(scalars));
  if (!options_.images || !r.pictures) return;
  if (!r.pictures->confusion.empty())
    recorder_.image(r.iteration, "val/confusion", r.pictures->confusion);
  for (size_t i = 0; i < r.pictures->samples.size(); ++i)
    recorder_.image(r.iteration, fmt::format("val/example_{}", i), r.pictures->samples[i]);
}

}  // namespace scenery::train
