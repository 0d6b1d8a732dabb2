#include "train/trainer.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/catalog_readers.h"
#include "data/loader.h"
#include "distributed/launch.h"
#include "eval/semantic_provider.h"
#include "models/checkpoint.h"
#include "models/dropout.h"
#include "models/gemm_weight_grad.h"
#include "models/registry.h"
#include "models/winograd_conv.h"
#include "train/data_parallel.h"
#include "train/hardware.h"
#include "train/losses.h"
#include "train/mixing.h"
#include "train/optimizers.h"
#include "train/resume.h"
#include "train/run_dir.h"
#include "train/schedules.h"
#include "train/signals.h"
#include "train/weight_ema.h"

namespace scenery::train {
namespace fs = std::filesystem;
using models::ModelKind;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The [train] values the loop needs, read and checked up front.
struct Settings {
  int epochs = 90;
  int val_every = 1;
  int save_every = 0;
  int stop_after = 0;
  int accumulate = 1;
  int checkpoint_every = 0;
  bool sync_bn = false;
  double clip = 0;
  std::string best_metric;
  std::string val_split;
  bool drop_last = true;
  LossOptions loss;
  MixOptions mix;
  double ema_decay = 0;
};

Settings read_settings(const Config& c, ModelKind kind) {
  Settings s;
  s.epochs = c.get<int>("train.epochs");
  s.val_every = c.get<int>("train.val_every");
  s.save_every = c.get<int>("train.save_every");
  s.stop_after = c.get<int>("train.stop_after_iterations");
  s.accumulate = c.get<int>("train.accumulate");
  s.checkpoint_every = c.get<int>("train.checkpoint_every");
  const auto sync_bn = c.get<std::string>("train.sync_bn");
  if (sync_bn != "auto" && sync_bn != "yes" && sync_bn != "no") {
    throw ConfigError(fmt::format("train.sync_bn: expected auto, yes or no, got '{}'", sync_bn));
  }
  s.sync_bn = sync_bn == "yes" || (sync_bn == "auto" && kind == ModelKind::kParsing);
  s.clip = c.get<double>("train.clip_grad_norm");
  s.val_split = c.get<std::string>("train.val_split");
  s.drop_last = c.get<bool>("train.drop_last");
  s.loss.label_smoothing = c.get<double>("train.label_smoothing");
  s.loss.aux_weight = c.get<double>("train.aux_weight");
  s.loss.rgb_weight = c.get<double>("train.rgb_weight");
  s.loss.sem_weight = c.get<double>("train.sem_weight");
  if (s.epochs < 0 || s.val_every < 0 || s.save_every < 0 || s.stop_after < 0 ||
      s.checkpoint_every < 0) {
    throw ConfigError(
        "train.epochs, train.val_every, train.save_every, train.stop_after_iterations and "
        "train.checkpoint_every must be >= 0");
  }
  if (s.accumulate < 1) throw ConfigError("train.accumulate must be >= 1");
  if (s.loss.label_smoothing < 0 || s.loss.label_smoothing >= 1) {
    throw ConfigError("train.label_smoothing must be in [0, 1)");
  }
  s.mix.mixup_alpha = c.get<double>("train.mixup_alpha");
  s.mix.cutmix_alpha = c.get<double>("train.cutmix_alpha");
  s.mix.prob = c.get<double>("train.mix_prob");
  s.mix.switch_prob = c.get<double>("train.mix_switch_prob");
  if (s.mix.mixup_alpha < 0 || s.mix.cutmix_alpha < 0 || s.mix.prob < 0 || s.mix.prob > 1 ||
      s.mix.switch_prob < 0 || s.mix.switch_prob > 1) {
    throw ConfigError(
        fmt::format("train.mixup_alpha and train.cutmix_alpha must be >= 0, train.mix_prob and "
                    "train.mix_switch_prob in [0, 1]; got {}, {}, {}, {}",
                    s.mix.mixup_alpha, s.mix.cutmix_alpha, s.mix.prob, s.mix.switch_prob));
  }
  s.ema_decay = c.get<double>("train.ema_decay");
  if (s.ema_decay < 0 || s.ema_decay >= 1)
    throw ConfigError(
        fmt::format("train.ema_decay: expected 0 (off) or 0 < decay < 1, got {}", s.ema_decay));
  if (s.mix.enabled() && kind != ModelKind::kClassifier) {
    throw ConfigError(fmt::format(
        "train.mixup_alpha / train.cutmix_alpha mix images and scene labels: they apply to "
        "classifiers, not to a {} model (its masks or semantic maps would not follow)",
        models::model_kind_name(kind)));
  }
  const bool parsing = kind == ModelKind::kParsing;
  s.best_metric = c.get<std::string>("train.best_metric");
  if (s.best_metric == "auto") s.best_metric = parsing ? "miou" : "top1";
  const bool ok =
      parsing ? (s.best_metric == "miou" || s.best_metric == "pixel_acc")
              : (s.best_metric == "top1" || s.best_metric == "top5" || s.best_metric == "mca");
  if (!ok) {
    throw ConfigError(fmt::format("train.best_metric: '{}' is not measured for a {} model ({})",
                                  s.best_metric, models::model_kind_name(kind),
                                  parsing ? "pixel_acc, miou" : "top1, top5, mca"));
  }
  return s;
}

// How one split is loaded, and where the two-branch net's semantic maps come from.
struct LoaderPlan {
  data::LoaderOptions options;
  eval::SemanticProvider semantic;
};

LoaderPlan loader_plan(const Config& c, bool train, ModelKind kind, const Settings& s,
                       const data::Catalog& catalog, const Hardware& hw, const DataParallel& dp) {
  LoaderPlan plan;
  auto& o = plan.options;
  o = data::loader_options_from_config(c, train);
  // Every rank draws the same seeded permutation and takes its own positions
  // of it (data/sampler.h); validation shards without padding or duplicates.
  o.rank = dp.rank();
  o.world_size = dp.world_size();
  o.drop_last = train && s.drop_last;
  o.channels_last = hw.channels_last;
  o.pin_memory = hw.device.is_cuda();
  o.load_masks = kind == ModelKind::kParsing;
  // On a GPU the loader hands over bytes (a quarter of the copy) and the GPU
  // normalises them (images_to_device). On CPU the loader's table-driven
  // normalisation in its own threads is cheaper than three ATen passes over
  // the batch on the training threads (measured: 55 vs 170 us per 224 px image).
  o.uint8_images = hw.device.is_cuda();
  if (kind == ModelKind::kTwoBranch) {
    plan.semantic = eval::resolve_semantic_input(
        "train.semantic_source", c.get<std::string>("train.semantic_source"),
        "train.semantic_checkpoint", c.get<std::string>("train.semantic_checkpoint"), catalog, o,
        hw.device);
  }
  return plan;
}

// The class count the data implies, checked against model.num_classes.
void check_class_count(const Config& c, ModelKind kind, const data::Catalog& catalog,
                       int64_t num_classes) {
  const bool parsing = kind == ModelKind::kParsing;
  const int64_t data_classes = parsing ? (catalog.object_names().empty()
                                              ? 150
                                              : static_cast<int64_t>(catalog.object_names().size()))
                                       : catalog.num_classes();
  if (data_classes != num_classes) {
    throw ConfigError(
        fmt::format("model.num_classes = {} but the {} dataset at '{}' has {} {}classes; set "
                    "--model.num_classes {}",
                    num_classes, catalog.dataset(), c.get<std::string>("data.root"), data_classes,
                    parsing ? "object " : "scene ", data_classes));
  }
}

std::string describe(const Metrics& m) {
  std::string out;
  for (const auto& [k, v] : m)
    out += fmt::format("{}{} {:.4f}", out.empty() ? "" : ", ", k, v);
  return out;
}

// Every rank must start the same way; a rank that cannot see rank 0's
// last.ckpt (run_dir not on a shared filesystem) would silently start over.
void agree_on_start(DataParallel& dp, const StartPlan& plan, const RunDir& run) {
  if (!dp.distributed()) return;
  const auto modes = dp.gather(torch::tensor({static_cast<int64_t>(plan.mode)}, torch::kInt64));
  const auto name = [](int64_t m) {
    return m == static_cast<int64_t>(StartMode::kResume)        ? "resumes from last.ckpt"
           : m == static_cast<int64_t>(StartMode::kInitWeights) ? "starts from model.weights"
                                                                : "starts fresh";
  };
  for (int r = 1; r < dp.world_size(); ++r) {
    const int64_t zero = modes[0][0].item<int64_t>(), other = modes[r][0].item<int64_t>();
    if (zero != other) {
      throw ConfigError(fmt::format(
          "rank 0 {} but rank {} {} in {}: train.run_dir must be one folder every rank sees "
          "(a filesystem shared by all nodes)",
          name(zero), r, name(other), run.path().string()));
    }
  }
}

// A resumed position for this rank: its own generator and running loss when
// the world size is unchanged; a different world size only at an epoch end.
void adopt_rank_position(TrainPosition& pos, const DataParallel& dp, const fs::path& checkpoint,
                         int64_t batch_size) {
  const int w = dp.world_size();
  if (pos.saved_world_size != w) {
    if (pos.position != 0) {
      throw ConfigError(fmt::format(
          "{} was saved mid-epoch (epoch {}, batch {}) by {} rank{}, and this launch has {}: a "
          "different world size can resume only at an epoch boundary. Relaunch with {} rank{} "
          "to finish the epoch (or train.resume no to start over)",
          checkpoint.string(), pos.epoch + 1, pos.position, pos.saved_world_size,
          pos.saved_world_size == 1 ? "" : "s", w, pos.saved_world_size,
          pos.saved_world_size == 1 ? "" : "s"));
    }
    log::warn(
        "{} was saved by {} rank(s); continuing with {} at the start of epoch {} (the data "
        "are re-sharded, the global batch is now {} per rank x {})",
        checkpoint.string(), pos.saved_world_size, w, pos.epoch + 1, batch_size, w);
    return;  // every rank continues from rank 0's generator (restored by resume_from)
  }
  if (w == 1) return;
  if (pos.rank_rng_states.defined()) models::set_cpu_rng_state(pos.rank_rng_states[dp.rank()]);
  if (!pos.rank_loss_sum.empty()) {
    pos.loss_sum = pos.rank_loss_sum.at(dp.rank());
    pos.loss_count = pos.rank_loss_count.at(dp.rank());
  }
}

std::vector<int> unequal_batch_counts(DataParallel& dp, int64_t num_batches) {
  const auto counts = dp.gather(torch::tensor({num_batches}, torch::kInt64));
  std::vector<int> ranks;
  for (int r = 0; r < dp.world_size(); ++r)
    if (counts[r][0].item<int64_t>() != num_batches) ranks.push_back(r);
  return ranks;
}

}  // namespace

TrainResult run_training(const Config& c) {
  // 1. Cheap checks: values, the launch, resume vs weights, a writable run directory.
  const auto arch = c.get<std::string>("model.arch");
  const ModelKind kind = models::model_registry().entry(arch).kind;
  const Settings s = read_settings(c, kind);
  const ScheduleOptions schedule_options = schedule_options_from_config(c);
  const OptimizerOptions optimizer_options = optimizer_options_from_config(c);
  const dist::Launch launch =
      dist::resolve_launch(dist::launch_options_from_config(c), dist::process_environment());
  const double bucket_mb = c.get<double>("dist.bucket_mb");
  if (!(bucket_mb > 0))
    throw ConfigError(fmt::format("dist.bucket_mb must be > 0, got {}", bucket_mb));
  const RunDir run(c.get<std::string>("train.run_dir"));
  const StartPlan plan =
      plan_start(c.get<std::string>("train.resume"), c.get<std::string>("model.weights"), run);
  const bool writer = launch.rank == 0;
  if (writer) c.write_resolved(run.path());
  log::add_file(writer ? run.log() : run.rank_log(launch.rank));
  if (!writer) log::set_console_level(log::Level::kWarn);
  // The console level stays: a rank other than 0 keeps quiet to the end.
  struct CloseLog {
    ~CloseLog() { log::close_file(); }
  } close_log;
  // setup_hardware switches the Winograd and GEMM weight-gradient paths for
  // this run; the caller's settings come back when the run ends.
  struct RestoreFastConvolutions {
    bool winograd = models::winograd_training_enabled();
    bool gemm = models::gemm_weight_grad_training_enabled();
    ~RestoreFastConvolutions() {
      models::set_winograd_training(winograd);
      models::set_gemm_weight_grad_training(gemm);
    }
  } restore_fast_convolutions;
  const Hardware hw = setup_hardware(c, launch.local_rank);
  DataParallelOptions dp_options;
  dp_options.sync_batchnorm = s.sync_bn;
  // A zero loss weight leaves that head without gradient.
  dp_options.find_unused_parameters =
      (kind == ModelKind::kTwoBranch && (s.loss.rgb_weight == 0 || s.loss.sem_weight == 0)) ||
      (kind == ModelKind::kParsing && s.loss.aux_weight == 0);
  dp_options.bucket_bytes = static_cast<int64_t>(bucket_mb * 1024 * 1024);
  DataParallel dp(launch.distributed() ? dist::ProcessGroup::create(launch, hw.device) : nullptr,
                  dp_options);
  agree_on_start(dp, plan, run);
  torch::manual_seed(static_cast<uint64_t>(c.get<int64_t>("train.seed")));

  // 2. Data and model.
  data::CatalogSpec spec = data::catalog_spec_from_config(c);
  const data::Catalog train_catalog = data::open_catalog(spec);
  std::optional<data::Catalog> val_catalog;
  if (!s.val_split.empty() && s.val_every > 0) {
    spec.split = s.val_split;
    val_catalog = data::open_catalog(spec);
  }
  const int64_t num_classes = c.get<int>("model.num_classes");
  check_class_count(c, kind, train_catalog, num_classes);

  models::SceneModel model = models::create_model(arch, num_classes);
  if (const double p = c.get<double>("model.dropout"); p >= 0) {
    models::set_dropout_probability(model.module(), p);
  }
  if (plan.mode == StartMode::kInitWeights) init_from_weights(plan.checkpoint, model);
  model.to(hw.device);
  if (hw.channels_last) model.to_channels_last();
  BuiltOptimizer optimizer = make_optimizer(model, optimizer_options);
  TrainPosition pos;
  if (plan.mode == StartMode::kResume) {
    pos = resume_from(plan.checkpoint, model, optimizer);
    adopt_rank_position(pos, dp, plan.checkpoint, c.get<int>("data.batch_size"));
    log::info("resuming {} at epoch {}, batch {}, iteration {}", plan.checkpoint.string(),
              pos.epoch + 1, pos.position, pos.iteration);
  }
  if (!plan.init_weights.empty()) {
    pos.init_weights = plan.init_weights;
    pos.init_weights_sha256 = plan.init_weights_sha256;
  }
  dp.attach(model);
  std::optional<WeightEma> ema;
  if (s.ema_decay > 0) {
    ema.emplace(model, s.ema_decay);
    if (!pos.ema_state.is_empty()) {
      ema->load(pos.ema_state, plan.checkpoint.string());
    } else if (plan.mode == StartMode::kResume && pos.iteration > 0) {
      log::warn("{} holds no weight average: train.ema_decay starts one from its weights",
                plan.checkpoint.string());
    }
  }

  const LoaderPlan train_plan = loader_plan(c, true, kind, s, train_catalog, hw, dp);
  const auto& train_options = train_plan.options;
  data::Loader train_loader(train_catalog, train_options);
  const int64_t num_batches = train_loader.num_batches();
  if (num_batches < 1) {
    throw TrainError(fmt::format(
        "the training split has {} images: not one batch of {}{}{}", train_catalog.size(),
        train_options.batch_size,
        dp.distributed() ? fmt::format(" on each of {} ranks", dp.world_size()) : std::string(),
        s.drop_last ? " (train.drop_last = true)" : ""));
  }
  if (dp.distributed()) {
    if (const auto ranks = unequal_batch_counts(dp, num_batches); !ranks.empty()) {
      throw ConfigError(fmt::format(
          "train.drop_last = false gives the ranks different batch counts per epoch (rank {} "
          "has {}, rank {} another): data-parallel ranks must step together; set "
          "train.drop_last true",
          dp.rank(), num_batches, fmt::join(ranks, ", ")));
    }
  }
  std::optional<data::Loader> val_loader;
  std::optional<LoaderPlan> val_plan;
  if (val_catalog) {
    val_plan = loader_plan(c, false, kind, s, *val_catalog, hw, dp);
    val_loader.emplace(*val_catalog, val_plan->options);
  }
  const int64_t steps_per_epoch = (num_batches + s.accumulate - 1) / s.accumulate;
  const LrSchedule schedule(schedule_options, steps_per_epoch);

  models::CheckpointMeta meta;
  meta.class_names =
      kind == ModelKind::kParsing ? train_catalog.object_names() : train_catalog.class_names();
  meta.input_mean.assign(train_options.normalize.mean.begin(), train_options.normalize.mean.end());
  meta.input_std.assign(train_options.normalize.std.begin(), train_options.normalize.std.end());
  meta.input_size = train_options.train.crop.size;
  // Collective: every rank hands over its generator and running loss; rank 0 writes.
  const auto save_last = [&] {
    const auto rng = dp.gather(models::cpu_rng_state());
    const auto losses = dp.gather(
        torch::tensor({pos.loss_sum, static_cast<double>(pos.loss_count)}, torch::kDouble));
    if (!dp.writer()) return;
    auto state = dp.distributed() ? make_training_state(optimizer, model, pos, rng, losses)
                                  : make_training_state(optimizer, model, pos);
    if (ema) state.ema_state = ema->state();
    models::save_checkpoint(run.last(), model, meta, &state);
    if (ema) {
      ema->swap(model);
      models::save_checkpoint(run.ema(), model, meta);
      ema->swap(model);
    }
  };

  MetricsCsv metrics_csv(run.metrics(), pos.epoch);
  // From here on a signal saves last.ckpt instead of killing the process.
  StopSignalGuard signals;
  TrainResult result;
  result.run_dir = run.path();
  const int64_t global_batch = train_options.batch_size * dp.world_size();
  log::info("{} ({}), {} classes, {} training images in {} batches of {}{}, {} epochs", arch,
            models::model_kind_name(kind), num_classes, train_loader.shard_size(), num_batches,
            train_options.batch_size,
            dp.distributed()
                ? fmt::format(" on each of {} ranks (global batch {}{})", dp.world_size(),
                              global_batch, s.sync_bn ? ", synchronised BatchNorm" : "")
                : std::string(),
            s.epochs);

  // 3. Epochs.
  int64_t steps_here = 0;  // optimizer steps taken by this process
  const auto step_limit_reached = [&] { return s.stop_after > 0 && steps_here >= s.stop_after; };
  // Collective: every rank learns whether any rank was asked to stop.
  const auto should_stop = [&] {
    return dp.agree(false, stop_requested()).stop || step_limit_reached();
  };
  const auto interrupt = [&] {
    save_last();
    result.interrupted = true;
    result.signal = stop_signal();
    result.epochs_done = pos.epoch;
    result.iteration = pos.iteration;
    log::warn(
        "{} at epoch {}, batch {}/{}, iteration {}: {}saved {}; re-run the same command to "
        "resume",
        result.signal ? fmt::format("stopped by signal {}", result.signal)
        : dp.distributed() && !step_limit_reached()
            ? std::string("stopped (another rank was signalled)")
            : std::string("stopped (train.stop_after_iterations)"),
        pos.epoch + 1, pos.position, num_batches, pos.iteration, dp.writer() ? "" : "rank 0 ",
        run.last().string());
    return result;
  };
  std::vector<torch::Tensor> parameters;
  for (const auto& p : model.named_parameters())
    if (p.value().requires_grad()) parameters.push_back(p.value());

  model.train();
  while (pos.epoch < s.epochs) {
    const int64_t epoch = pos.epoch;
    train_loader.start_epoch(epoch, pos.position);
    Progress::Options progress_options;
    progress_options.unit = "batch";
    if (!dp.writer()) progress_options.out = nullptr;
    Progress bar(fmt::format("epoch {}/{}", epoch + 1, s.epochs), num_batches - pos.position,
                 progress_options);
    const double epoch_start = now_s();
    double waited = 0;
    int64_t images = 0;
    int64_t pending_group = -1;  // accumulation group with gradients not yet applied
    bool stopped = false;
    bool stop_wanted = false;  // some rank asked to stop: at the end of this group
    clear_gradients(*optimizer.optimizer);

    const auto step = [&] {
      if (s.clip > 0) torch::nn::utils::clip_grad_norm_(parameters, s.clip);
      const double factor = schedule.factor(epoch, pos.iteration);
      apply_lr_factor(optimizer, factor);
      optimizer.optimizer->step();
      clear_gradients(*optimizer.optimizer);
      if (ema) ema->update(model);
      ++pos.iteration;
      ++steps_here;
      pos.last_lr = optimizer_options.lr * factor;
      pending_group = -1;
      const double elapsed = std::max(1e-9, now_s() - epoch_start);
      bar.set_status(fmt::format("loss {:.4f} lr {:.3g} {:.1f} img/s wait {:.0f}%",
                                 pos.loss_sum / std::max<int64_t>(1, pos.loss_count), pos.last_lr,
                                 static_cast<double>(images * dp.world_size()) / elapsed,
                                 100 * waited / elapsed));
    };

    while (true) {
      const double t0 = now_s();
      std::optional<data::Batch> batch = train_loader.next();
      waited += now_s() - t0;
      if (!batch) break;
      if (dp.distributed() && batch->position != pos.position) {
        // Ranks take every step together; a batch this rank lost entirely
        // would leave the others waiting in its collectives.
        throw TrainError(fmt::format(
            "rank {}: no image of batch {} of epoch {} could be read (see the warnings above); "
            "data-parallel ranks must step together: repair or remove the files (scenery-data "
            "check) and re-run the same command to resume",
            dp.rank(), pos.position + 1, epoch + 1));
      }
      const int64_t group = batch->position / s.accumulate;
      if (pending_group >= 0 && group != pending_group) {
        // Whole batches of the previous group were skipped (bad files): apply it now.
        step();
        pos.position = batch->position;
        if (stop_wanted || should_stop()) {
          stopped = true;
          break;
        }
      }
      const bool group_end =
          (batch->position + 1) % s.accumulate == 0 || batch->position + 1 == num_batches;
      dp.before_forward(group_end);
      models::ModelOutput out;
      MixDecision mix;
      {
        AutocastScope autocast(hw);
        auto images = images_to_device(batch->images, hw, train_options.normalize, batch->erase);
        if (s.mix.enabled()) {
          mix = draw_mix(s.mix, train_options.seed, dp.rank(), epoch, batch->position,
                         images.size(-2), images.size(-1));
          images = mix_images(images, mix);
        }
        out = model.forward(images, train_plan.semantic(*batch, images));
      }
      const auto& target = kind == ModelKind::kParsing ? batch->masks : batch->labels;
      const torch::Tensor loss =
          s.mix.enabled() ? soft_target_cross_entropy(
                                out.logits, mix_targets(to_device(target, hw), out.logits.size(1),
                                                        s.loss.label_smoothing, mix))
                          : training_loss(kind, out, to_device(target, hw), s.loss);
      const double value = loss.item<double>();
      // The exchange runs alongside backward; a non-finite gradient is never applied.
      dp.propose(!std::isfinite(value), stop_requested());
      dp.backward(s.accumulate > 1 ? loss / s.accumulate : loss, group_end);
      const auto agreed = dp.agreement();
      if (!agreed.nonfinite_ranks.empty()) {
        throw TrainError(fmt::format(
            "the loss became {} at epoch {}, iteration {} (batch {} of {}); nothing was saved, "
            "{} keeps the last good state. Lower train.lr, or use train.warmup_epochs or "
            "train.clip_grad_norm",
            dp.distributed() ? fmt::format("non-finite on rank {} (here {})",
                                           fmt::join(agreed.nonfinite_ranks, ", "), value)
                             : fmt::format("{}", value),
            epoch + 1, pos.iteration + 1, batch->position + 1, num_batches, run.last().string()));
      }
      stop_wanted = stop_wanted || agreed.stop;
      pending_group = group;
      pos.loss_sum += value * static_cast<double>(batch->size());
      pos.loss_count += batch->size();
      images += batch->size();
      pos.position = batch->position + 1;
      if (group_end) {
        step();
        if (s.checkpoint_every > 0 && pos.iteration % s.checkpoint_every == 0 &&
            pos.position < num_batches) {
          save_last();
        }
      }
      bar.advance();
      if (group_end && (stop_wanted || step_limit_reached())) {
        stopped = true;
        break;
      }
    }
    if (!stopped && pending_group >= 0) step();
    if (stopped) {
      bar.finish();
      return interrupt();
    }
    const double epoch_time = std::max(1e-9, now_s() - epoch_start);
    bar.finish();

    // Validation, best.ckpt, metrics.csv, last.ckpt.
    const bool validate_now =
        val_loader && ((epoch + 1) % s.val_every == 0 || epoch + 1 == s.epochs);
    std::optional<Metrics> metrics;
    if (validate_now) {
      if (should_stop()) return interrupt();
      val_loader->start_epoch(0);
      dp.sync_buffers();
      // Ranks merge their meters at the end, so a pass is not interrupted midway
      // on one rank only; a signal then stops every rank after it.
      const auto interruptible = [&] { return !dp.distributed() && stop_requested(); };
      metrics = validate(model, *val_loader, val_plan->options.normalize, val_plan->semantic, hw,
                         interruptible, [&](torch::Tensor& state) { dp.sum(state); });
      if (!metrics) return interrupt();
      result.last_metrics = *metrics;
      if (ema) {
        val_loader->start_epoch(0);
        ema->swap(model);
        dp.sync_buffers();
        const auto averaged =
            validate(model, *val_loader, val_plan->options.normalize, val_plan->semantic, hw,
                     interruptible, [&](torch::Tensor& state) { dp.sum(state); });
        ema->swap(model);
        if (!averaged) return interrupt();
        result.last_ema_metrics = *averaged;
      }
      const double value = metrics->at(s.best_metric);
      if (value > pos.best) {
        pos.best = value;
        pos.best_epoch = epoch + 1;
        if (dp.writer()) models::save_checkpoint(run.best(), model, meta);
      }
    }
    // The epoch's loss over every rank's images, summed in rank order.
    const auto totals = dp.gather(torch::tensor(
        {pos.loss_sum, static_cast<double>(pos.loss_count), static_cast<double>(images)},
        torch::kDouble));
    double loss_sum = 0, loss_count = 0, all_images = 0;
    for (int64_t r = 0; r < totals.size(0); ++r) {
      loss_sum += totals[r][0].item<double>();
      loss_count += totals[r][1].item<double>();
      all_images += totals[r][2].item<double>();
    }
    MetricsRow row;
    row.epoch = epoch + 1;
    row.train_loss = loss_sum / std::max(1.0, loss_count);
    row.lr = pos.last_lr;
    if (metrics) {
      const auto get = [&](const char* k) -> std::optional<double> {
        auto it = metrics->find(k);
        return it == metrics->end() ? std::nullopt : std::optional<double>(it->second);
      };
      row.top1 = get("top1");
      row.top5 = get("top5");
      row.mca = get("mca");
      row.pixel_acc = get("pixel_acc");
      row.miou = get("miou");
    }
    row.images_per_s = all_images / epoch_time;
    row.data_wait = waited / epoch_time;
    if (dp.writer()) metrics_csv.append(row);
    result.images_per_s = row.images_per_s;
    log::info("epoch {}/{}: loss {:.4f}, lr {:.3g}, {:.1f} img/s ({:.0f}% waiting for data){}{}",
              epoch + 1, s.epochs, row.train_loss, row.lr, row.images_per_s, 100 * row.data_wait,
              metrics ? ", val " : "", metrics ? describe(*metrics) : "");
    if (metrics && ema)
      log::info("epoch {}/{}: weight average (decay {}), val {}", epoch + 1, s.epochs, ema->decay(),
                describe(result.last_ema_metrics));

    pos.epoch = epoch + 1;
    pos.position = 0;
    pos.loss_sum = 0;
    pos.loss_count = 0;
    save_last();
    if (dp.writer() && s.save_every > 0 && pos.epoch % s.save_every == 0) {
      models::save_checkpoint(run.epoch_checkpoint(pos.epoch), model, meta);
    }
  }
  result.epochs_done = pos.epoch;
  result.iteration = pos.iteration;
  if (pos.best_epoch > 0) {
    log::info("done: best {} {:.4f} at epoch {} ({})", s.best_metric, pos.best, pos.best_epoch,
              run.best().string());
  }
  return result;
}

}  // namespace scenery::train
