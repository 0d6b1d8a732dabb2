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
#include "data/data_options.h"
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
#include "train/objective.h"
#include "train/optimizers.h"
#include "train/recording_observer.h"
#include "train/resume.h"
#include "train/run_dir.h"
#include "train/schedules.h"
#include "train/signals.h"
#include "train/validation_pictures.h"
#include "train/weight_ema.h"

namespace scenery::train {
namespace fs = std::filesystem;
using models::ModelKind;

// The Trainer's parts, named (not anonymous) because Trainer::Impl holds them.
namespace trainer_detail {

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

// How one split is loaded, and where the two-branch net's semantic maps come from.
struct LoaderPlan {
  data::LoaderOptions options;
  eval::SemanticProvider semantic;
};

// The log file of this rank, closed when the run ends. The console level
// stays: a rank other than 0 keeps quiet to the end.
struct RunLog {
  RunLog(const Config& c, const RunDir& run, int rank) {
    if (rank == 0) c.write_resolved(run.path());
    log::add_file(rank == 0 ? run.log() : run.rank_log(rank));
    if (rank != 0) log::set_console_level(log::Level::kWarn);
  }
  ~RunLog() { log::close_file(); }
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
};

// setup_hardware switches the Winograd and GEMM weight-gradient paths for
// this run; the caller's settings come back when the run ends.
struct RestoreFastConvolutions {
  bool winograd = models::winograd_training_enabled();
  bool gemm = models::gemm_weight_grad_training_enabled();
  ~RestoreFastConvolutions() {
    models::set_winograd_training(winograd);
    models::set_gemm_weight_grad_training(gemm);
  }
};

// What one epoch of training has seen so far.
struct EpochProgress {
  int64_t epoch = 0;
  double start = 0;            // now_s() at its start
  double seconds = 0;          // training time, validation excluded
  double waited = 0;           // seconds spent waiting for the loader
  int64_t images = 0;          // this rank's images
  int64_t pending_group = -1;  // accumulation group with gradients not yet applied
  bool stop_wanted = false;    // some rank asked to stop: at the end of this group
  std::optional<Progress> bar;
};

}  // namespace trainer_detail
using trainer_detail::EpochProgress;
using trainer_detail::LoaderPlan;
using trainer_detail::RestoreFastConvolutions;
using trainer_detail::RunLog;
using trainer_detail::Settings;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Settings read_settings(const Config& c, ModelKind kind) {
  Settings s;
  s.epochs = c.get<int>("train.epochs");
  s.val_every = c.get<int>("train.val_every");
  s.save_every = c.get<int>("train.save_every");
  s.stop_after = c.get<int>("train.stop_after_iterations");
  s.accumulate = c.get<int>("train.accumulate");
  s.checkpoint_every = c.get<int>("train.checkpoint_every");
  s.sync_bn = resolve(c.get_tristate("train.sync_bn"), kind == ModelKind::kParsing);
  s.clip = c.get<double>("train.clip_grad_norm");
  s.val_split = c.get<std::string>("train.val_split");
  s.drop_last = c.get<bool>("train.drop_last");
  s.loss.label_smoothing = c.get<double>("train.label_smoothing");
  s.loss.aux_weight = c.get<double>("train.aux_weight");
  s.loss.rgb_weight = c.get<double>("train.rgb_weight");
  s.loss.sem_weight = c.get<double>("train.sem_weight");
  s.mix.mixup_alpha = c.get<double>("train.mixup_alpha");
  s.mix.cutmix_alpha = c.get<double>("train.cutmix_alpha");
  s.mix.prob = c.get<double>("train.mix_prob");
  s.mix.switch_prob = c.get<double>("train.mix_switch_prob");
  s.ema_decay = c.get<double>("train.ema_decay");
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
    throw_invalid_value(
        "", "train.best_metric", s.best_metric,
        fmt::format("a metric a {} model measures: {}", models::model_kind_name(kind),
                    parsing ? "pixel_acc, miou" : "top1, top5, mca"));
  }
  return s;
}

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

// This rank's part of a resumed state: its own generator and running loss when
// the world size is unchanged. With another world size the epoch continues
// from the first sample of its global order not yet trained on (elastic: the
// order does not depend on the world size, data/sampler.h).
void adopt_rank_position(ResumeState& pos, const DataParallel& dp, const fs::path& checkpoint,
                         int64_t batch_size, int64_t epoch_samples) {
  const int w = dp.world_size();
  if (pos.saved_world_size != w) {
    if (pos.position != 0) {
      const int64_t saved_batch = pos.batch_size > 0 ? pos.batch_size : batch_size;
      const int64_t consumed = std::min(
          epoch_samples, pos.epoch_offset + pos.position * saved_batch * pos.saved_world_size);
      log::warn(
          "{} was saved mid-epoch (epoch {}, batch {}) by {} rank(s) and this launch has {}: "
          "the epoch continues its global order at sample {} of {} (elastic resume); the "
          "global batch is now {} per rank x {}",
          checkpoint.string(), pos.epoch + 1, pos.position, pos.saved_world_size, w, consumed,
          epoch_samples, batch_size, w);
      pos.epoch_offset = consumed;
      pos.position = 0;
      // The epoch's loss sums every rank's part: all of it goes to rank 0.
      double loss_sum = pos.rank_loss_sum.empty() ? pos.loss_sum : 0;
      int64_t loss_count = pos.rank_loss_sum.empty() ? pos.loss_count : 0;
      for (size_t r = 0; r < pos.rank_loss_sum.size(); ++r) {
        loss_sum += pos.rank_loss_sum[r];
        loss_count += pos.rank_loss_count[r];
      }
      pos.loss_sum = dp.rank() == 0 ? loss_sum : 0;
      pos.loss_count = dp.rank() == 0 ? loss_count : 0;
      return;  // every rank continues from rank 0's generator (restored by resume_from)
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

// " on each of N ranks" when data-parallel, "" alone: the one place where a
// message's wording depends on the world size.
std::string on_each_rank(const DataParallel& dp, const std::string& extra = "") {
  if (!dp.distributed()) return "";
  return fmt::format(" on each of {} ranks{}", dp.world_size(), extra);
}

std::vector<int> unequal_batch_counts(DataParallel& dp, int64_t num_batches) {
  const auto counts = dp.gather(torch::tensor({num_batches}, torch::kInt64));
  std::vector<int> ranks;
  for (int r = 0; r < dp.world_size(); ++r)
    if (counts[r][0].item<int64_t>() != num_batches) ranks.push_back(r);
  return ranks;
}

}  // namespace

// The setup's results, in the order they are made (and unmade in reverse):
// members are optional where they are made by a step of the constructor.
class Trainer::Impl {
 public:
  explicit Impl(const Config& c);
  void add_observer(std::shared_ptr<TrainObserver> observer);
  TrainResult run();

 private:
  // Setup, in order.
  void check_options_and_launch();
  void open_run_directory();
  void set_up_hardware_and_ranks();
  void open_datasets();
  void build_model();
  void restore_position();
  void build_loaders();
  void describe_run();
  void start_recording();

  // The epoch loop.
  bool train_epoch(EpochProgress& epoch);                            // false: stopped
  bool train_batch(EpochProgress& epoch, const data::Batch& batch);  // false: stop now
  void optimizer_step(EpochProgress& epoch);
  std::optional<Metrics> validate_pass(ValidationCapture* capture = nullptr);
  bool validate_epoch(std::optional<Metrics>& metrics);  // false: stopped
  void end_epoch(const EpochProgress& epoch, const std::optional<Metrics>& metrics);
  TrainResult finish();

  // Collective stop and checkpointing.
  bool step_limit_reached() const;
  bool should_stop();
  void save_last();
  TrainResult interrupt();

  const Config& c_;
  std::string arch_;
  ModelKind kind_ = ModelKind::kClassifier;
  Settings s_;
  ScheduleOptions schedule_options_;
  OptimizerOptions optimizer_options_;
  dist::Launch launch_;
  double bucket_mb_ = 25;
  std::optional<RunDir> run_;
  StartPlan plan_;
  std::optional<RunLog> run_log_;
  RestoreFastConvolutions restore_fast_convolutions_;
  Hardware hw_;
  std::optional<DataParallel> dp_;
  std::optional<data::Catalog> train_catalog_;
  std::optional<data::Catalog> val_catalog_;
  int64_t num_classes_ = 0;
  std::optional<models::SceneModel> model_;
  std::optional<BuiltOptimizer> optimizer_;
  ResumeState pos_;
  std::optional<WeightEma> ema_;
  std::optional<Objective> objective_;
  std::optional<LoaderPlan> train_plan_;
  std::optional<data::Loader> train_loader_;
  int64_t num_batches_ = 0;
  std::optional<LoaderPlan> val_plan_;
  std::optional<data::Loader> val_loader_;
  std::optional<LrSchedule> schedule_;
  models::CheckpointMeta meta_;
  std::optional<MetricsCsv> metrics_csv_;
  std::vector<torch::Tensor> parameters_;  // those the optimizer steps (clipping)
  std::vector<std::shared_ptr<TrainObserver>> observers_;
  RecordingOptions recording_;
  std::optional<ValidationPictures> pictures_;  // of the latest validation (rank 0)
  int64_t steps_here_ = 0;                      // optimizer steps taken by this process
  TrainResult result_;
};

Trainer::Impl::Impl(const Config& c) : c_(c) {
  check_options_and_launch();
  open_run_directory();
  set_up_hardware_and_ranks();
  open_datasets();
  build_model();
  restore_position();
  build_loaders();
  describe_run();
  start_recording();
}

// Cheap checks first: values, the launch, resume vs weights, a writable run directory.
void Trainer::Impl::check_options_and_launch() {
  arch_ = c_.get<std::string>("model.arch");
  kind_ = models::model_registry().entry(arch_).kind;
  s_ = read_settings(c_, kind_);
  schedule_options_ = schedule_options_from_config(c_);
  optimizer_options_ = optimizer_options_from_config(c_);
  const dist::LaunchOptions launch_options = dist::launch_options_from_config(c_);
  launch_ = dist::resolve_launch(launch_options, dist::process_environment());
  bucket_mb_ = launch_options.bucket_mb;
}

void Trainer::Impl::open_run_directory() {
  run_.emplace(c_.get<std::string>("train.run_dir"));
  plan_ = plan_start(c_.get_tristate("train.resume"), c_.get<std::string>("model.weights"), *run_);
  run_log_.emplace(c_, *run_, launch_.rank);
}

void Trainer::Impl::set_up_hardware_and_ranks() {
  hw_ = setup_hardware(c_, launch_.local_rank);
  DataParallelOptions options;
  options.sync_batchnorm = s_.sync_bn;
  // A zero loss weight leaves that head without gradient.
  options.find_unused_parameters =
      (kind_ == ModelKind::kTwoBranch && (s_.loss.rgb_weight == 0 || s_.loss.sem_weight == 0)) ||
      (kind_ == ModelKind::kParsing && s_.loss.aux_weight == 0);
  options.bucket_bytes = static_cast<int64_t>(bucket_mb_ * 1024 * 1024);
  dp_.emplace(launch_.distributed() ? dist::ProcessGroup::create(launch_, hw_.device) : nullptr,
              options);
  agree_on_start(*dp_, plan_, *run_);
  torch::manual_seed(static_cast<uint64_t>(c_.get<int64_t>("train.seed")));
}

void Trainer::Impl::open_datasets() {
  data::CatalogSpec spec = data::catalog_spec_from_config(c_);
  train_catalog_.emplace(data::open_catalog(spec));
  if (!s_.val_split.empty() && s_.val_every > 0) {
    spec.split = s_.val_split;
    val_catalog_.emplace(data::open_catalog(spec));
  }
  num_classes_ = c_.get<int>("model.num_classes");
  check_class_count(c_, kind_, *train_catalog_, num_classes_);
}

void Trainer::Impl::build_model() {
  model_.emplace(models::create_model(arch_, num_classes_));
  if (const double p = c_.get<double>("model.dropout"); p >= 0) {
    models::set_dropout_probability(model_->module(), p);
  }
  if (plan_.mode == StartMode::kInitWeights) init_from_weights(plan_.checkpoint, *model_);
  model_->to(hw_.device);
  if (hw_.channels_last) model_->to_channels_last();
  optimizer_.emplace(make_optimizer(*model_, optimizer_options_));
  for (const auto& p : model_->named_parameters())
    if (p.value().requires_grad()) parameters_.push_back(p.value());
}

// last.ckpt's resume state, weights and weight average, or the fresh start's.
void Trainer::Impl::restore_position() {
  if (plan_.mode == StartMode::kResume) {
    pos_ = resume_from(plan_.checkpoint, *model_, *optimizer_);
    adopt_rank_position(pos_, *dp_, plan_.checkpoint, c_.get<int>("data.batch_size"),
                        static_cast<int64_t>(train_catalog_->size()));
    log::info("resuming {} at epoch {}, batch {}, iteration {}", plan_.checkpoint.string(),
              pos_.epoch + 1, pos_.position, pos_.iteration);
  }
  if (!plan_.init_weights.empty()) {
    pos_.init_weights = plan_.init_weights;
    pos_.init_weights_sha256 = plan_.init_weights_sha256;
  }
  dp_->attach(*model_);
  if (s_.ema_decay <= 0) return;
  ema_.emplace(*model_, s_.ema_decay);
  if (!pos_.ema_state.is_empty()) {
    ema_->load(pos_.ema_state, plan_.checkpoint.string());
  } else if (plan_.mode == StartMode::kResume && pos_.iteration > 0) {
    log::warn("{} holds no weight average: train.ema_decay starts one from its weights",
              plan_.checkpoint.string());
  }
}

void Trainer::Impl::build_loaders() {
  train_plan_.emplace(loader_plan(c_, true, kind_, s_, *train_catalog_, hw_, *dp_));
  const auto& options = train_plan_->options;
  objective_.emplace(kind_, s_.loss, s_.mix, options.seed, dp_->rank());
  train_loader_.emplace(*train_catalog_, options);
  num_batches_ = train_loader_->num_batches();
  pos_.batch_size = options.batch_size;
  if (num_batches_ < 1) {
    throw TrainError(fmt::format("the training split has {} images: not one batch of {}{}{}",
                                 train_catalog_->size(), options.batch_size, on_each_rank(*dp_),
                                 s_.drop_last ? " (train.drop_last = true)" : ""));
  }
  if (dp_->distributed()) {
    if (const auto ranks = unequal_batch_counts(*dp_, num_batches_); !ranks.empty()) {
      throw ConfigError(fmt::format(
          "train.drop_last = false gives the ranks different batch counts per epoch (rank {} "
          "has {}, rank {} another): data-parallel ranks must step together; set "
          "train.drop_last true",
          dp_->rank(), num_batches_, fmt::join(ranks, ", ")));
    }
  }
  if (val_catalog_) {
    val_plan_.emplace(loader_plan(c_, false, kind_, s_, *val_catalog_, hw_, *dp_));
    val_loader_.emplace(*val_catalog_, val_plan_->options);
  }
  const int64_t steps_per_epoch = (num_batches_ + s_.accumulate - 1) / s_.accumulate;
  schedule_.emplace(schedule_options_, steps_per_epoch);
}

// The event file and metrics.jsonl (rank 0): first among the observers, so
// the files see each step before anyone else's observer can throw.
void Trainer::Impl::start_recording() {
  recording_ = recording_options_from_config(c_);
  if (!recording_.enabled || !dp_->writer()) return;
  const int64_t resume_step = plan_.mode == StartMode::kResume ? pos_.iteration : -1;
  observers_.insert(observers_.begin(), std::make_shared<RecordingObserver>(
                                            run_->path(), recording_, resume_step, c_.dump()));
}

void Trainer::Impl::describe_run() {
  const auto& options = train_plan_->options;
  meta_.class_names =
      kind_ == ModelKind::kParsing ? train_catalog_->object_names() : train_catalog_->class_names();
  meta_.input_mean.assign(options.normalize.mean.begin(), options.normalize.mean.end());
  meta_.input_std.assign(options.normalize.std.begin(), options.normalize.std.end());
  meta_.input_size = options.train.crop.size;
  metrics_csv_.emplace(run_->metrics(), pos_.epoch);
  result_.run_dir = run_->path();
  const int64_t global_batch = options.batch_size * dp_->world_size();
  log::info("{} ({}), {} classes, {} training images in {} batches of {}{}, {} epochs", arch_,
            models::model_kind_name(kind_), num_classes_, train_loader_->shard_size(), num_batches_,
            options.batch_size,
            on_each_rank(*dp_, fmt::format(" (global batch {}{})", global_batch,
                                           s_.sync_bn ? ", synchronised BatchNorm" : "")),
            s_.epochs);
}

void Trainer::Impl::add_observer(std::shared_ptr<TrainObserver> observer) {
  observers_.push_back(std::move(observer));
}

TrainResult Trainer::Impl::run() {
  // From here on a signal saves last.ckpt instead of killing the process.
  StopSignalGuard signals;
  model_->train();
  while (pos_.epoch < s_.epochs) {
    EpochProgress epoch;
    if (!train_epoch(epoch)) return interrupt();
    std::optional<Metrics> metrics;
    if (!validate_epoch(metrics)) return interrupt();
    end_epoch(epoch, metrics);
  }
  return finish();
}

bool Trainer::Impl::train_epoch(EpochProgress& epoch) {
  epoch.epoch = pos_.epoch;
  train_loader_->start_epoch(epoch.epoch, pos_.position, pos_.epoch_offset);
  num_batches_ = train_loader_->num_batches();  // fewer in an epoch resumed elastically
  if (pos_.epoch_offset > 0 && dp_->distributed()) {
    if (const auto ranks = unequal_batch_counts(*dp_, num_batches_); !ranks.empty()) {
      throw ConfigError(fmt::format(
          "the {} samples left of epoch {} give the ranks different batch counts with "
          "train.drop_last = false (rank {} has {}, rank {} another): set train.drop_last true "
          "to resume this epoch on {} ranks",
          train_catalog_->size() - pos_.epoch_offset, epoch.epoch + 1, dp_->rank(), num_batches_,
          fmt::join(ranks, ", "), dp_->world_size()));
    }
  }
  Progress::Options progress_options;
  progress_options.unit = "batch";
  if (!dp_->writer()) progress_options.out = nullptr;
  epoch.bar.emplace(fmt::format("epoch {}/{}", epoch.epoch + 1, s_.epochs),
                    num_batches_ - pos_.position, progress_options);
  epoch.start = now_s();
  clear_gradients(*optimizer_->optimizer);
  while (true) {
    const double t0 = now_s();
    std::optional<data::Batch> batch = train_loader_->next();
    epoch.waited += now_s() - t0;
    if (!batch) break;
    if (!train_batch(epoch, *batch)) {
      epoch.bar->finish();
      return false;
    }
  }
  if (epoch.pending_group >= 0) optimizer_step(epoch);
  epoch.seconds = std::max(1e-9, now_s() - epoch.start);
  epoch.bar->finish();
  return true;
}

bool Trainer::Impl::train_batch(EpochProgress& epoch, const data::Batch& batch) {
  if (dp_->distributed() && batch.position != pos_.position) {
    // Ranks take every step together; a batch this rank lost entirely
    // would leave the others waiting in its collectives.
    throw TrainError(fmt::format(
        "rank {}: no image of batch {} of epoch {} could be read (see the warnings above); "
        "data-parallel ranks must step together: repair or remove the files (scenery-data "
        "check) and re-run the same command to resume",
        dp_->rank(), pos_.position + 1, epoch.epoch + 1));
  }
  if (log::enabled(log::Level::kDebug)) {
    const auto idx = batch.indices.contiguous();
    const int64_t* p = idx.data_ptr<int64_t>();
    log::debug("epoch {} batch {} samples {}", epoch.epoch + 1, batch.position,
               fmt::join(p, p + idx.numel(), " "));
  }
  const int64_t group = batch.position / s_.accumulate;
  if (epoch.pending_group >= 0 && group != epoch.pending_group) {
    // Whole batches of the previous group were skipped (bad files): apply it now.
    optimizer_step(epoch);
    pos_.position = batch.position;
    if (epoch.stop_wanted || should_stop()) return false;
  }
  const bool group_end =
      (batch.position + 1) % s_.accumulate == 0 || batch.position + 1 == num_batches_;
  dp_->before_forward(group_end);
  models::ModelOutput out;
  {
    AutocastScope autocast(hw_);
    auto images = images_to_device(batch.images, hw_, train_plan_->options.normalize, batch.erase);
    images = objective_->inputs(images, epoch.epoch, batch.position);
    out = model_->forward(images, train_plan_->semantic(batch, images));
  }
  const auto& target = kind_ == ModelKind::kParsing ? batch.masks : batch.labels;
  const torch::Tensor loss = objective_->loss(out, to_device(target, hw_));
  const double value = loss.item<double>();
  // The exchange runs alongside backward; a non-finite gradient is never applied.
  dp_->propose(!std::isfinite(value), stop_requested());
  dp_->backward(s_.accumulate > 1 ? loss / s_.accumulate : loss, group_end);
  const auto agreed = dp_->agreement();
  if (!agreed.nonfinite_ranks.empty()) {
    throw TrainError(fmt::format(
        "the loss became {} at epoch {}, iteration {} (batch {} of {}); nothing was saved, "
        "{} keeps the last good state. Lower train.lr, or use train.warmup_epochs or "
        "train.clip_grad_norm",
        dp_->distributed() ? fmt::format("non-finite on rank {} (here {})",
                                         fmt::join(agreed.nonfinite_ranks, ", "), value)
                           : fmt::format("{}", value),
        epoch.epoch + 1, pos_.iteration + 1, batch.position + 1, num_batches_,
        run_->last().string()));
  }
  epoch.stop_wanted = epoch.stop_wanted || agreed.stop;
  epoch.pending_group = group;
  pos_.loss_sum += value * static_cast<double>(batch.size());
  pos_.loss_count += batch.size();
  epoch.images += batch.size();
  pos_.position = batch.position + 1;
  if (group_end) {
    optimizer_step(epoch);
    if (s_.checkpoint_every > 0 && pos_.iteration % s_.checkpoint_every == 0 &&
        pos_.position < num_batches_) {
      save_last();
    }
  }
  epoch.bar->advance();
  return !(group_end && (epoch.stop_wanted || step_limit_reached()));
}

void Trainer::Impl::optimizer_step(EpochProgress& epoch) {
  double grad_norm = -1;
  if (s_.clip > 0) grad_norm = torch::nn::utils::clip_grad_norm_(parameters_, s_.clip);
  const double factor = schedule_->factor(epoch.epoch, pos_.iteration);
  apply_lr_factor(*optimizer_, factor);
  optimizer_->optimizer->step();
  clear_gradients(*optimizer_->optimizer);
  if (ema_) ema_->update(*model_);
  ++pos_.iteration;
  ++steps_here_;
  pos_.last_lr = optimizer_options_.lr * factor;
  epoch.pending_group = -1;
  const double elapsed = std::max(1e-9, now_s() - epoch.start);
  StepReport report{
      dp_->writer(),          epoch.epoch + 1,
      pos_.iteration,         pos_.position,
      num_batches_,           pos_.loss_sum / std::max<int64_t>(1, pos_.loss_count),
      pos_.last_lr,           static_cast<double>(epoch.images * dp_->world_size()) / elapsed,
      epoch.waited / elapsed, grad_norm};
  epoch.bar->set_status(fmt::format("loss {:.4f} lr {:.3g} {:.1f} img/s wait {:.0f}%", report.loss,
                                    report.lr, report.images_per_s, 100 * report.data_wait));
  for (const auto& observer : observers_)
    observer->on_step(report);
}

// One pass over the validation split; nullopt when a signal stopped it.
std::optional<Metrics> Trainer::Impl::validate_pass(ValidationCapture* capture) {
  val_loader_->start_epoch(0);
  dp_->sync_buffers();
  // Ranks merge their meters at the end, so a pass is not interrupted midway
  // on one rank only; a signal then stops every rank after it.
  const auto interruptible = [&] { return !dp_->distributed() && stop_requested(); };
  return validate(*model_, *val_loader_, val_plan_->options.normalize, val_plan_->semantic, hw_,
                  interruptible, dp_->group().get(), capture);
}

// Validates when this epoch is due (and the weight average alongside); keeps
// best.ckpt.
bool Trainer::Impl::validate_epoch(std::optional<Metrics>& metrics) {
  const int64_t done = pos_.epoch + 1;
  if (!val_loader_ || (done % s_.val_every != 0 && done != s_.epochs)) return true;
  if (should_stop()) return false;
  pictures_.reset();
  std::optional<ValidationCapture> capture;
  if (recording_.enabled && recording_.images) {
    capture.emplace();
    capture->samples = recording_.examples;
  }
  metrics = validate_pass(capture ? &*capture : nullptr);
  if (!metrics) return false;
  if (capture && dp_->writer()) {
    pictures_ = make_validation_pictures(*model_, *capture, val_plan_->options.normalize,
                                         val_plan_->semantic, hw_, meta_.class_names);
  }
  result_.last_metrics = *metrics;
  if (ema_) {
    ema_->swap(*model_);
    const auto averaged = validate_pass();
    ema_->swap(*model_);
    if (!averaged) return false;
    result_.last_ema_metrics = *averaged;
  }
  const double value = metrics->at(s_.best_metric);
  if (value > pos_.best) {
    pos_.best = value;
    pos_.best_epoch = done;
    if (dp_->writer()) models::save_checkpoint(run_->best(), *model_, meta_);
  }
  return true;
}

// metrics.csv's row (the loss over every rank's images, summed in rank order),
// the log line, last.ckpt and epoch_NNN.ckpt.
void Trainer::Impl::end_epoch(const EpochProgress& epoch, const std::optional<Metrics>& metrics) {
  const auto totals = dp_->gather(torch::tensor(
      {pos_.loss_sum, static_cast<double>(pos_.loss_count), static_cast<double>(epoch.images)},
      torch::kDouble));
  double loss_sum = 0, loss_count = 0, all_images = 0;
  for (int64_t r = 0; r < totals.size(0); ++r) {
    loss_sum += totals[r][0].item<double>();
    loss_count += totals[r][1].item<double>();
    all_images += totals[r][2].item<double>();
  }
  MetricsRow row;
  row.epoch = epoch.epoch + 1;
  row.train_loss = loss_sum / std::max(1.0, loss_count);
  row.lr = pos_.last_lr;
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
  row.images_per_s = all_images / epoch.seconds;
  row.data_wait = epoch.waited / epoch.seconds;
  if (dp_->writer()) metrics_csv_->append(row);
  result_.images_per_s = row.images_per_s;
  log::info("epoch {}/{}: loss {:.4f}, lr {:.3g}, {:.1f} img/s ({:.0f}% waiting for data){}{}",
            row.epoch, s_.epochs, row.train_loss, row.lr, row.images_per_s, 100 * row.data_wait,
            metrics ? ", val " : "", metrics ? describe(*metrics) : "");
  if (metrics && ema_)
    log::info("epoch {}/{}: weight average (decay {}), val {}", row.epoch, s_.epochs, ema_->decay(),
              describe(result_.last_ema_metrics));
  const EpochReport report{dp_->writer(),
                           pos_.iteration,
                           row,
                           metrics ? &*metrics : nullptr,
                           metrics && ema_ ? &result_.last_ema_metrics : nullptr,
                           metrics && pictures_ ? &*pictures_ : nullptr};
  for (const auto& observer : observers_)
    observer->on_epoch(report);

  pos_.epoch = row.epoch;
  pos_.position = 0;
  pos_.epoch_offset = 0;
  pos_.loss_sum = 0;
  pos_.loss_count = 0;
  save_last();
  if (dp_->writer() && s_.save_every > 0 && pos_.epoch % s_.save_every == 0) {
    models::save_checkpoint(run_->epoch_checkpoint(pos_.epoch), *model_, meta_);
  }
}

TrainResult Trainer::Impl::finish() {
  result_.epochs_done = pos_.epoch;
  result_.iteration = pos_.iteration;
  if (pos_.best_epoch > 0) {
    log::info("done: best {} {:.4f} at epoch {} ({})", s_.best_metric, pos_.best, pos_.best_epoch,
              run_->best().string());
  }
  return result_;
}

bool Trainer::Impl::step_limit_reached() const {
  return s_.stop_after > 0 && steps_here_ >= s_.stop_after;
}

// Collective: every rank learns whether any rank was asked to stop.
bool Trainer::Impl::should_stop() {
  return dp_->agree(false, stop_requested()).stop || step_limit_reached();
}

// Collective: every rank hands over its generator and running loss; rank 0 writes.
void Trainer::Impl::save_last() {
  const auto rng = dp_->gather(models::cpu_rng_state());
  const auto losses = dp_->gather(
      torch::tensor({pos_.loss_sum, static_cast<double>(pos_.loss_count)}, torch::kDouble));
  if (!dp_->writer()) return;
  auto state = dp_->distributed() ? make_training_state(*optimizer_, *model_, pos_, rng, losses)
                                  : make_training_state(*optimizer_, *model_, pos_);
  if (ema_) state.ema_state = ema_->state();
  models::save_checkpoint(run_->last(), *model_, meta_, &state);
  if (ema_) {
    ema_->swap(*model_);
    models::save_checkpoint(run_->ema(), *model_, meta_);
    ema_->swap(*model_);
  }
}

TrainResult Trainer::Impl::interrupt() {
  save_last();
  result_.interrupted = true;
  result_.signal = stop_signal();
  result_.epochs_done = pos_.epoch;
  result_.iteration = pos_.iteration;
  const std::string why = result_.signal ? fmt::format("stopped by signal {}", result_.signal)
                          : dp_->distributed() && !step_limit_reached()
                              ? std::string("stopped (another rank was signalled)")
                              : std::string("stopped (train.stop_after_iterations)");
  log::warn(
      "{} at epoch {}, batch {}/{}, iteration {}: {}saved {}; re-run the same command to resume",
      why, pos_.epoch + 1, pos_.position, num_batches_, pos_.iteration,
      dp_->writer() ? "" : "rank 0 ", run_->last().string());
  return result_;
}

Trainer::Trainer(const Config& config) : impl_(std::make_unique<Impl>(config)) {}
Trainer::~Trainer() = default;

void Trainer::add_observer(std::shared_ptr<TrainObserver> observer) {
  impl_->add_observer(std::move(observer));
}

TrainResult Trainer::run() {
  return impl_->run();
}

TrainResult run_training(const Config& config) {
  return Trainer(config).run();
}

}  // namespace scenery::train
