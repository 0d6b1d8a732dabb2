#include "train/train_options.h"

#include "core/cli.h"
#include "data/data_options.h"
#include "distributed/launch.h"
#include "eval/eval_options.h"
#include "eval/semantic_provider.h"
#include "models/model_options.h"
#include "train/hardware.h"
#include "train/optimizers.h"
#include "train/recording_observer.h"
#include "train/schedules.h"

namespace scenery::train {

namespace {

void add_run_options(Config& c) {
  c.add<std::string>("train.run_dir", "runs/default",
                     "run directory: config, checkpoints, metrics.csv, log; reused to resume");
  c.add_tristate("train.resume",
                 "auto: resume from run_dir/last.ckpt when it exists; yes: it must exist; "
                 "no: start over (excludes model.weights unless no)");
  c.add<int>("train.epochs", static_cast<int>(ScheduleOptions().epochs), "number of epochs",
             Bounds::at_least(0));
  c.add<int64_t>("train.seed", 0,
                 "seed of weight initialisation and dropout (data.seed: of the data)");
  c.add<std::string>("train.val_split", "val",
                     "split validated on (data.dataset's naming: val, test); empty = none");
  c.add<int>("train.val_every", 1, "validate every N epochs (and after the last); 0 = never",
             Bounds::at_least(0));
  c.add_choice("train.best_metric", "auto", best_metric_choices(),
               "metric for best.ckpt: top1, top5, mca, pixel_acc, miou; auto = top1 "
               "(miou for parsing)");
  c.add<int>("train.save_every", 0, "also keep epoch_NNN.ckpt every N epochs; 0 = never",
             Bounds::at_least(0));
  c.add<int>("train.stop_after_iterations", 0,
             "testing/time-boxing: behave as if SIGTERM arrived after this many optimizer "
             "steps of this process (save last.ckpt, exit 3); 0 = off",
             Bounds::at_least(0));
  c.add<int>("train.checkpoint_every", 0,
             "also write last.ckpt every N optimizer steps mid-epoch (a crash then loses "
             "minutes, not an epoch); 0 = only at epoch ends",
             Bounds::at_least(0));
}

void add_step_options(Config& c) {
  c.add<double>("train.clip_grad_norm", 0.0, "clip the global gradient L2 norm to this; 0 = off",
                Bounds::at_least(0));
  c.add<int>("train.accumulate", 1, "batches whose gradients are summed per optimizer step",
             Bounds::at_least(1));
  c.add<bool>("train.drop_last", true,
              "drop the last incomplete batch (a batch of 1 breaks BatchNorm)");
  c.add_tristate("train.sync_bn",
                 "data parallel: BatchNorm statistics over the global batch (all ranks); "
                 "auto = yes for parsing networks (small per-GPU batches), no otherwise");
}

void add_loss_options(Config& c) {
  const auto probability = Bounds::within(0, 1);
  const auto non_negative = Bounds::at_least(0);
  c.add<double>("train.label_smoothing", 0.0, "label smoothing of the classification losses",
                Bounds::from_up_to_excluding(0, 1));
  c.add<double>("train.mixup_alpha", 0.0,
                "Mixup: images and labels blended with the reversed batch, lam ~ Beta(a, a) "
                "(timm's Mixup); 0 = off, classifiers only",
                non_negative);
  c.add<double>("train.cutmix_alpha", 0.0,
                "CutMix: a box of the reversed batch pasted in, lam ~ Beta(a, a), corrected "
                "to the pasted area; 0 = off, classifiers only",
                non_negative);
  c.add<double>("train.mix_prob", 1.0, "probability that a batch is mixed (Mixup/CutMix on)",
                probability);
  c.add<double>("train.mix_switch_prob", 0.5,
                "with both on: probability of CutMix rather than Mixup for a batch", probability);
  c.add<double>("train.ema_decay", 0.0,
                "exponential moving average of the weights (timm's ModelEmaV2; e.g. 0.9998), "
                "validated alongside and written as ema.ckpt; 0 = off",
                Bounds::from_up_to_excluding(0, 1));
  c.add<double>("train.aux_weight", 0.4, "parsing: weight of the deep-supervision loss",
                non_negative);
  c.add<double>("train.rgb_weight", 1.0, "two-branch: weight of the RGB auxiliary head's loss",
                non_negative);
  c.add<double>("train.sem_weight", 1.0, "two-branch: weight of the semantic auxiliary head's loss",
                non_negative);
  c.add_choice("train.semantic_source", "auto", eval::semantic_source_choices(),
               "two-branch input: top3 (precomputed PNG pairs), masks (ADE20K "
               "annotations), parsing (computed by train.semantic_checkpoint) or auto "
               "(the first of these the data and options allow)");
  c.add<std::string>("train.semantic_checkpoint", "",
                     "two-branch input: a scene-parsing checkpoint (parsing_*) whose top-3 "
                     "maps are computed on the fly from each training image");
}

}  // namespace

const std::vector<std::string>& best_metric_choices() {
  static const std::vector<std::string> names = {"auto", "top1",      "top5",
                                                 "mca",  "pixel_acc", "miou"};
  return names;
}

void add_train_options(Config& c) {
  c.section("train", "[train] optimisation and run directory");
  add_run_options(c);
  add_optimizer_options(c);
  add_step_options(c);
  add_schedule_options(c);
  add_loss_options(c);
  add_hardware_options(c);
}

void add_all_train_options(Config& config) {
  add_common_options(config);
  data::add_data_options(config);
  models::add_model_options(config);
  add_train_options(config);
  add_log_options(config);
  eval::add_eval_options(config);
  dist::add_dist_options(config);
}

}  // namespace scenery::train
