// End-to-end training throughput (scenery-train's loop: loader on its worker
// threads, forward, loss, backward, SGD step, progress) next to the model step
// alone on synthetic tensors: same model, batch, image size and torch threads.
// The ratio end-to-end / step-only says how much the data pipeline and the
// loop cost (target >= 0.95). Both rates are wall-clock and warm: the
// end-to-end figure is the second epoch of a run (the first pays for
// allocation and oneDNN primitive creation).
//
//   scenery-bench-train-step [--benchmark_filter=resnet18]
// Environment: SCENERY_BENCH_THREADS (torch threads, default 2),
// SCENERY_BENCH_WORKERS (loader threads, default 1), SCENERY_BENCH_ITERS
// (steps per end-to-end epoch, default 20), SCENERY_BENCH_BATCH (default 16),
// SCENERY_BENCH_DEVICE (cpu, default, or cuda: both sides on the GPU with
// scenery-train's defaults there, bf16 autocast and channels-last).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/log.h"
#include "data/synth.h"
#include "models/gemm_weight_grad.h"
#include "models/precision.h"
#include "models/registry.h"
#include "models/winograd_conv.h"
#include "train/losses.h"
#include "train/optimizers.h"
#include "train/train_options.h"
#include "train/trainer.h"

namespace {
namespace fs = std::filesystem;
using namespace scenery;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

const int kBatch = env_int("SCENERY_BENCH_BATCH", 16);

std::string bench_device() {
  const char* v = std::getenv("SCENERY_BENCH_DEVICE");
  return v ? v : "cpu";
}
constexpr int kClasses = 8;
const char* const kArchs[] = {"resnet18", "resnet50", "sascene_resnet18"};

bool two_branch(const std::string& arch) {
  return arch.rfind("sascene_", 0) == 0;
}

// A synthetic tree (Places365, or ADE20K for the two-branch net) with at least
// `iters` batches of kBatch per epoch.
fs::path dataset(int iters, const std::string& layout) {
  static std::map<std::string, fs::path> roots;
  fs::path& root = roots[layout];
  if (root.empty()) {
    root = fs::temp_directory_path() /
           ("scenery-bench-train-" + layout + "-" + std::to_string(iters * kBatch));
    fs::remove_all(root);
    data::SynthOptions o;
    o.layout = layout;
    o.out = root;
    o.classes = kClasses;
    // ADE20K keeps 60 % of the images for training (the rest: val, test).
    const int share = layout == "ade20k" ? 60 : 100;
    o.per_class = (iters * kBatch * 100 / share + kClasses - 1) / kClasses;
    o.size = 256;
    data::write_synthetic_dataset(o);
  }
  return root;
}

void BM_StepOnly(benchmark::State& state) {
  retain_freed_memory();  // as scenery-train's main does
  const std::string arch = kArchs[state.range(0)];
  const int64_t size = state.range(1);
  torch::set_num_threads(env_int("SCENERY_BENCH_THREADS", 2));
  const torch::Device device(bench_device());
  auto model = models::create_model(arch, kClasses);
  model.train();
  model.to(device);
  model.to_channels_last();  // as scenery-train does by default (train.channels_last = auto)
  // As scenery-train does by default (train.cpu_winograd = true) where oneDNN has the kernels.
  models::set_winograd_training(env_int("SCENERY_BENCH_WINOGRAD", 1) != 0 &&
                                models::winograd_available());
  // As scenery-train does by default (train.cpu_gemm_wgrad = true).
  models::set_gemm_weight_grad_training(env_int("SCENERY_BENCH_GEMM_WGRAD", 1) != 0 &&
                                        models::gemm_weight_grad_available());
  train::OptimizerOptions o;
  auto opt = train::make_optimizer(model, o);
  const auto images = torch::randn({kBatch, 3, size, size}, device)
                          .contiguous(torch::MemoryFormat::ChannelsLast);
  const auto labels = torch::randint(kClasses, {kBatch}, torch::TensorOptions(device).dtype(torch::kLong));
  // The two-branch net's semantic input, a one-hot map of 150 + 2 channels:
  // as the loader hands it out (slots, range(2) = 0) or dense (range(2) = 1).
  // Regions of 8x8 pixels share a class, as objects in real maps do.
  models::SemanticMap semantic;
  const bool dense = state.range(2) != 0;
  if (model.kind() == models::ModelKind::kTwoBranch) {
    const auto channels = torch::randint(152, {kBatch, 1, size / 8, size / 8}, torch::kLong)
                              .repeat_interleave(8, 2)
                              .repeat_interleave(8, 3);
    semantic = dense ? models::SemanticMap::from_slots(channels).to_dense(152)
                     : models::SemanticMap::from_slots(channels.to(torch::kUInt8));
  }
  semantic = semantic.to(device);
  for (auto _ : state) {
    train::clear_gradients(*opt.optimizer);  // as the trainer does
    torch::Tensor loss;
    {
      // bf16 autocast on a GPU, as scenery-train's train.amp = auto.
      models::AutocastScope autocast(device, device.is_cuda());
      loss = train::training_loss(model.kind(), model.forward(images, semantic), labels, {});
    }
    benchmark::DoNotOptimize(loss.item<double>());  // the trainer reads it too (NaN check)
    loss.backward();
    opt.optimizer->step();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(arch + " " + std::to_string(size) + "px batch " + std::to_string(kBatch) +
                 (model.kind() == models::ModelKind::kTwoBranch
                      ? (dense ? ", dense semantic map" : ", semantic slots")
                      : ""));
}

void BM_EndToEnd(benchmark::State& state) {
  retain_freed_memory();  // as scenery-train's main does
  const std::string arch = kArchs[state.range(0)];
  const int64_t size = state.range(1);
  const int iters = env_int("SCENERY_BENCH_ITERS", 20);
  const std::string layout = two_branch(arch) ? "ade20k" : "places365";
  const fs::path root = dataset(iters, layout);
  const fs::path run = fs::temp_directory_path() / "scenery-bench-train-run";
  log::set_level(log::Level::kWarn);
  int64_t steps = 0;  // per epoch; ADE20K's training split is a share of what synth writes
  for (auto _ : state) {
    fs::remove_all(run);
    Config c("bench", "");
    train::add_all_train_options(c);
    c.parse(std::vector<std::string>{
        "--data.dataset",      layout,
        "--data.root",         root.string(),
        "--data.batch_size",   std::to_string(kBatch),
        "--data.workers",      std::to_string(env_int("SCENERY_BENCH_WORKERS", 1)),
        "--data.image_size",   std::to_string(size),
        "--model.arch",        arch,
        "--model.num_classes", std::to_string(kClasses),
        "--train.epochs",      "2",
        "--train.val_split",   "",
        "--train.threads",     std::to_string(env_int("SCENERY_BENCH_THREADS", 2)),
        "--train.run_dir",     run.string(),
        "--train.device",      bench_device()});
    // images_per_s is the last epoch's: the second, warm one, like the step-only loop.
    const auto result = train::run_training(c);
    steps = result.iteration / 2;
    state.SetIterationTime(static_cast<double>(steps * kBatch) / result.images_per_s);
  }
  state.SetItemsProcessed(state.iterations() * steps * kBatch);
  state.SetLabel(arch + " " + std::to_string(size) + "px batch " + std::to_string(kBatch) +
                 ", 2nd epoch of " + std::to_string(iters) + " steps");
  fs::remove_all(run);
}

}  // namespace

// Wall-clock rates on both: torch's worker threads do the work, not the calling thread.
BENCHMARK(BM_StepOnly)
    ->Args({0, 112, 0})
    ->Args({1, 224, 0})
    ->Args({2, 160, 0})
    ->Args({2, 160, 1})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(10)
    ->UseRealTime();
BENCHMARK(BM_EndToEnd)
    ->Args({0, 112})
    ->Args({1, 224})
    ->Args({2, 160})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(1);
