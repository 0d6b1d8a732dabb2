// Metric accumulation must never be the bottleneck: parsing metrics target
// >= 1 Gpixel/s on one core; classification metrics run per batch of logits.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "eval/classification_meter.h"
#include "eval/segmentation_meter.h"

namespace {

// Mask-like data: runs of one label, predictions agreeing most of the time.
void make_masks(std::vector<uint8_t>& gt, std::vector<uint8_t>& pred, size_t n) {
  std::mt19937 rng(7);
  gt.resize(n);
  pred.resize(n);
  uint8_t label = 1;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 64 == 0) label = static_cast<uint8_t>(rng() % 151);
    gt[i] = label;
    pred[i] = rng() % 8 == 0 ? static_cast<uint8_t>(1 + rng() % 150) : label;
  }
}

void BM_SegmentationMeterAdd(benchmark::State& state) {
  const size_t pixels = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> gt, pred;
  make_masks(gt, pred, pixels);
  scenery::eval::SegmentationMeter meter(150);
  for (auto _ : state) {
    meter.add(pred.data(), gt.data(), pixels);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * pixels);
  state.counters["Gpixel/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * pixels) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SegmentationMeterAdd)->Arg(512 * 512)->Arg(2048 * 2048);

void BM_ClassificationMeterAdd(benchmark::State& state) {
  const int64_t classes = state.range(0);
  torch::manual_seed(0);
  const auto scores = torch::randn({256, classes});
  const auto labels = torch::randint(0, classes, {256}, torch::kLong);
  scenery::eval::ClassificationMeter meter(classes);
  for (auto _ : state)
    meter.add(scores, labels);
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_ClassificationMeterAdd)->Arg(365)->Arg(1055);

}  // namespace
