// Forward, and forward + backward + SGD step, per model: the training hot path.
// Batch, image size and threads come from the environment so the side-by-side
// script (side_by_side_models.sh) runs the same step in PyTorch:
//   SCENERY_BENCH_BATCH (16), SCENERY_BENCH_SIZE (224), SCENERY_BENCH_THREADS (all cores).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "core/allocator.h"
#include "models/registry.h"

namespace {
using scenery::models::create_model;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

struct Setup {
  scenery::models::SceneModel model;
  torch::Tensor images, labels;
};

Setup make(const std::string& arch, bool channels_last) {
  if (int64_t threads = env_int("SCENERY_BENCH_THREADS", 0)) torch::set_num_threads(threads);
  const int64_t batch = env_int("SCENERY_BENCH_BATCH", 16);
  const int64_t size = env_int("SCENERY_BENCH_SIZE", 224);
  torch::manual_seed(0);
  Setup s{create_model(arch, 365), torch::randn({batch, 3, size, size}),
          torch::randint(365, {batch}, torch::kLong)};
  if (channels_last) {
    s.model.to_channels_last();
    s.images = s.images.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  return s;
}

void BM_Forward(benchmark::State& state, const std::string& arch, bool channels_last) {
  scenery::retain_freed_memory();  // as scenery-train and scenery-eval do
  Setup s = make(arch, channels_last);
  s.model.eval();
  torch::NoGradGuard no_grad;
  s.model.forward(s.images);  // warm-up
  for (auto _ : state)
    benchmark::DoNotOptimize(s.model.forward(s.images).logits);
  state.SetItemsProcessed(state.iterations() * s.images.size(0));
}

void BM_TrainStep(benchmark::State& state, const std::string& arch, bool channels_last) {
  scenery::retain_freed_memory();  // as scenery-train does
  Setup s = make(arch, channels_last);
  s.model.train();
  std::vector<torch::Tensor> params;
  for (const auto& p : s.model.named_parameters())
    params.push_back(p.value());
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
  auto step = [&] {
    sgd.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(s.model.forward(s.images).logits, s.labels);
    loss.backward();
    sgd.step();
  };
  step();  // warm-up, untimed as in the Python script: allocations, oneDNN primitives
  for (auto _ : state)
    step();
  state.SetItemsProcessed(state.iterations() * s.images.size(0));
}

#define SCENERY_BENCH(fn, arch)                                                            \
  BENCHMARK_CAPTURE(fn, arch, #arch, false)->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(fn, arch##_channels_last, #arch, true)                                 \
      ->Unit(benchmark::kMillisecond)                                                      \
      ->UseRealTime()

SCENERY_BENCH(BM_Forward, resnet18);
SCENERY_BENCH(BM_Forward, resnet50);
SCENERY_BENCH(BM_TrainStep, resnet18);
SCENERY_BENCH(BM_TrainStep, resnet50);
SCENERY_BENCH(BM_TrainStep, alexnet);

}  // namespace
