#include "train/train_options.h"

#include "core/cli.h"
#include "data/data_options.h"
#include "distributed/launch.h"
#include "eval/eval_options.h"
#include "models/model_options.h"

namespace scenery::train {

void add_train_options(Config& c) {
  // Run directory and its outputs.
  c.add<std::string>("train.run_dir", "runs/default",
                     "run directory: config, checkpoints, metrics.csv, log; reused to resume");
  c.add<std::string>("train.resume", "auto",
                     "auto: resume from run_dir/last.ckpt when it exists; yes: it must exist; "
                     "no: start over (excludes model.weights unless no)");
  c.add<int>("train.epochs", 90, "number of epochs");
  c.add<int64_t>("train.seed", 0,
                 "seed of weight initialisation and dropout (data.seed: of the data)");
  c.add<std::string>("train.val_split", "val",
                     "split validated on (data.dataset's naming: val, test); empty = none");
  c.add<int>("train.val_every", 1, "validate every N epochs (and after the last); 0 = never");
  c.add<std::string>("train.best_metric", "auto",
                     "metric for best.ckpt: top1, top5, mca, pixel_acc, miou; auto = top1 "
                     "(miou for parsing)");
  c.add<int>("train.save_every", 0, "also keep epoch_NNN.ckpt every N epochs; 0 = never");
  c.add<int>("train.stop_after_iterations", 0,
             "testing/time-boxing: behave as if SIGTERM arrived after this many optimizer "
             "steps of this process (save last.ckpt, exit 3); 0 = off");

  // Optimiser.
  c.add<std::string>("train.optimizer", "sgd", "sgd or adamw (torch::optim)");
  c.add<double>("train.lr", 0.1,
                "base learning rate (of the head; the body gets lr * body_lr_mult)");
  c.add<double>("train.body_lr_mult", 1.0,
                "learning-rate multiplier of the body (non-head parameters); < 1 for fine-tuning");
  c.add<double>("train.momentum", 0.9, "SGD momentum");
  c.add<bool>("train.nesterov", false, "SGD: Nesterov momentum");
  c.add<double>("train.weight_decay", 1e-4, "weight decay (decoupled for adamw)");
  c.add<bool>("train.no_decay_norm_bias", false,
              "no weight decay on biases and normalisation weights (1-d parameters)");
  c.add<double>("train.adam_beta1", 0.9, "AdamW beta1");
  c.add<double>("train.adam_beta2", 0.999, "AdamW beta2");
  c.add<double>("train.adam_eps", 1e-8, "AdamW epsilon");
  c.add<double>("train.clip_grad_norm", 0.0, "clip the global gradient L2 norm to this; 0 = off");
  c.add<int>("train.accumulate", 1, "batches whose gradients are summed per optimizer step");

  // Schedule.
  c.add<std::string>("train.schedule", "step",
                     "lr schedule: constant, step, multistep, cosine, poly");
  c.add<std::string>("train.schedule_unit", "epoch",
                     "when the lr changes: epoch (once per epoch) or iteration (every step)");
  c.add<double>("train.lr_step_epochs", 30, "step: multiply the lr by lr_gamma every N epochs");
  c.add<std::string>(
      "train.lr_milestones", "30,60,80",
      "multistep: epochs (comma-separated) at which the lr is multiplied by lr_gamma");
  c.add<double>("train.lr_gamma", 0.1, "step/multistep: decay factor");
  c.add<double>("train.lr_power", 0.9, "poly: lr * (1 - progress)^power");
  c.add<double>("train.lr_min_factor", 0.0, "cosine/poly: floor, as a fraction of the base lr");
  c.add<double>("train.warmup_epochs", 0.0, "linear warm-up length in epochs (fractions allowed)");
  c.add<double>("train.warmup_start_factor", 0.1, "warm-up starts at lr * this factor");

  // Losses.
  c.add<double>("train.label_smoothing", 0.0, "label smoothing of the classification losses");
  c.add<double>("train.mixup_alpha", 0.0,
                "Mixup: images and labels blended with the reversed batch, lam ~ Beta(a, a) "
                "(timm's Mixup); 0 = off, classifiers only");
  c.add<double>("train.cutmix_alpha", 0.0,
                "CutMix: a box of the reversed batch pasted in, lam ~ Beta(a, a), corrected "
                "to the pasted area; 0 = off, classifiers only");
  c.add<double>("train.ema_decay", 0.0,
                "exponential moving average of the weights (timm's ModelEmaV2; e.g. 0.9998), "
                "validated alongside and written as ema.ckpt; 0 = off");
  c.add<double>("train.mix_prob", 1.0, "probability that a batch is mixed (Mixup/CutMix on)");
  c.add<double>("train.mix_switch_prob", 0.5,
                "with both on: probability of CutMix rather than Mixup for a batch");
  c.add<double>("train.aux_weight", 0.4, "parsing: weight of the deep-supervision loss");
  c.add<double>("train.rgb_weight", 1.0, "two-branch: weight of the RGB auxiliary head's loss");
  c.add<double>("train.sem_weight", 1.0,
                "two-branch: weight of the semantic auxiliary head's loss");
  c.add<std::string>("train.semantic_source", "auto",
                     "two-branch input: top3 (precomputed PNG pairs), masks (ADE20K "
                     "annotations), parsing (computed by train.semantic_checkpoint) or auto "
                     "(the first of these the data and options allow)");
  c.add<std::string>("train.semantic_checkpoint", "",
                     "two-branch input: a scene-parsing checkpoint (parsing_*) whose top-3 "
                     "maps are computed on the fly from each training image");
  c.add<bool>("train.drop_last", true,
              "drop the last incomplete batch (a batch of 1 breaks BatchNorm)");

  // Hardware.
  c.add<std::string>("train.device", "auto", "auto (cuda when available), cpu or cuda");
  c.add<int>("train.threads", 0,
             "CPU threads of torch operators (torch::set_num_threads); 0 = default");
  c.add<std::string>("train.amp", "auto", "mixed precision: auto (bf16 on cuda), bf16, off");
  c.add<std::string>("train.channels_last", "auto",
                     "channels-last tensors: auto (= yes: faster convolutions with oneDNN on "
                     "CPU and cuDNN on GPU), yes, no");
  c.add<bool>("train.cudnn_benchmark", true, "cuda: let cuDNN pick the fastest convolution");
  c.add<bool>("train.cpu_winograd", true,
              "cpu, float32: training runs 3x3 stride-1 convolutions with oneDNN's Winograd "
              "kernels where they are faster (AVX-512 CPUs); results agree with direct "
              "convolution to float rounding, validation and evaluation stay direct");
  c.add<bool>("train.cpu_gemm_wgrad", true,
              "cpu, float32, channels-last: training computes the weight gradient of the 3x3 "
              "convolutions Winograd leaves (stride 2, small maps; 128+ input channels) as one "
              "GEMM over im2col columns; agrees with the direct kernel to float rounding");

  // Data parallelism (the rest of [dist] is distributed/launch.h's).
  c.add<std::string>("train.sync_bn", "auto",
                     "data parallel: BatchNorm statistics over the global batch (all ranks); "
                     "auto = yes for parsing networks (small per-GPU batches), no otherwise");
  c.add<int>("train.checkpoint_every", 0,
             "also write last.ckpt every N optimizer steps mid-epoch (a crash then loses "
             "minutes, not an epoch); 0 = only at epoch ends");
  c.add<double>("dist.bucket_mb", 25,
                "gradient all-reduce bucket size in MiB (PyTorch DDP's bucket_cap_mb; the first "
                "bucket is 1 MiB)");
}

void add_all_train_options(Config& config) {
  add_common_options(config);
  data::add_data_options(config);
  models::add_model_options(config);
  add_train_options(config);
  eval::add_eval_options(config);
  dist::add_dist_options(config);
}

}  // namespace scenery::train
