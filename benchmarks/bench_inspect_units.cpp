// scenery-inspect units' cost over the network's: both passes over a
// synthetic ADE20K split (decoding, the exact quantile, the top images, the
// IoU sums against the annotations and the drawn strips) against the forward
// pass alone over the same, already preprocessed images (target: >= 50 %); and
// scenery-inspect rf's occluded images per second (each image with a patch of
// random pixels, run to layer4) against the plain forward pass at the same
// size and batch (target: >= 80 %).
//   build/benchmarks/scenery-bench-inspect-units
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/allocator.h"
#include "data/catalog_readers.h"
#include "data/decode.h"
#include "data/synth.h"
#include "inspect/occlusion_rf.h"
#include "inspect/unit_scan.h"
#include "models/layer_taps.h"
#include "models/registry.h"

namespace {
namespace fs = std::filesystem;
using namespace scenery;

constexpr int kBatch = 16;

struct Fixture {
  models::SceneModel model = models::create_model("resnet18", 8);
  fs::path dir = fs::temp_directory_path() / "scenery-bench-units";
  std::vector<inspect::UnitImage> images;
  std::vector<torch::Tensor> batches;  // the same images, preprocessed
  inspect::UnitScanOptions options;
  Fixture() {
    retain_freed_memory();  // as scenery-inspect's main does
    model.eval();
    model.to_channels_last();
    data::SynthOptions synth;
    synth.layout = "ade20k";
    synth.out = dir;
    synth.classes = 8;
    synth.per_class = 4;
    synth.eval_per_class = 12;  // 96 validation images, 256 px
    synth.difficulty = data::synth_difficulty("medium");
    if (!fs::exists(dir / "sceneCategories.txt")) data::write_synthetic_dataset(synth);
    data::CatalogSpec spec;
    spec.dataset = "ade20k";
    spec.root = dir;
    spec.split = "val";
    const data::Catalog catalog = data::open_catalog(spec);
    for (size_t i = 0; i < catalog.size(); ++i) {
      const auto s = catalog.at(i);
      images.push_back({s.image, s.mask, std::string(catalog.image_path(i)), s.label});
    }
    options.layers = {"layer4"};
    std::vector<torch::Tensor> inputs;
    for (const auto& image : images) {
      const cv::Mat rgb = data::decode_rgb(image.image);
      inputs.push_back(data::to_normalized_tensor(
          data::crop_resize(rgb, data::CropBox{0, 0, rgb.cols, rgb.rows}, cv::Size(224, 224)),
          options.normalize));
      if (inputs.size() == kBatch) {
        batches.push_back(torch::stack(inputs).contiguous(torch::MemoryFormat::ChannelsLast));
        inputs.clear();
      }
    }
    if (!inputs.empty())
      batches.push_back(torch::stack(inputs).contiguous(torch::MemoryFormat::ChannelsLast));
    // oneDNN builds its kernels on the first pass: keep that out of both measurements.
    torch::NoGradGuard no_grad;
    model.forward(batches.front());
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_ForwardOnly(benchmark::State& state) {
  auto& f = fixture();
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    for (const auto& batch : f.batches) {
      auto logits = f.model.forward(batch).logits;
      benchmark::DoNotOptimize(logits.data_ptr<float>());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(f.images.size()));
}
BENCHMARK(BM_ForwardOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

void BM_UnitDissection(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    const auto scan = inspect::scan_units(f.model, torch::kCPU, f.images, f.options);
    benchmark::DoNotOptimize(scan.layers.front().iou->unit_area(0));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(f.images.size()));
}
BENCHMARK(BM_UnitDissection)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

constexpr int kOcclusionSide = 112, kOcclusionBatch = 64;

void BM_ForwardOnly112(benchmark::State& state) {
  auto& f = fixture();
  torch::NoGradGuard no_grad;
  const auto batch = torch::randn({kOcclusionBatch, 3, kOcclusionSide, kOcclusionSide})
                         .contiguous(torch::MemoryFormat::ChannelsLast);
  f.model.forward(batch);
  for (auto _ : state) {
    auto logits = f.model.forward(batch).logits;
    benchmark::DoNotOptimize(logits.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * kOcclusionBatch);
}
BENCHMARK(BM_ForwardOnly112)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

void BM_OcclusionToLayer4(benchmark::State& state) {
  auto& f = fixture();
  const models::LayerTaps taps(f.model);
  inspect::OcclusionOptions o;
  o.stride = 6;  // 17 x 17 = 289 occluded images per image
  o.batch_size = kOcclusionBatch;
  const auto input = torch::randn({3, kOcclusionSide, kOcclusionSide});
  torch::NoGradGuard no_grad;
  const auto maps = taps.run(input.unsqueeze(0), {"layer4"})[0][0];
  const auto peaks = inspect::unit_peaks(maps, {0, 1, 2, 3, 4, 5, 6, 7});
  const auto n =
      static_cast<int64_t>(inspect::occlusion_positions(kOcclusionSide, o.patch, o.stride).size());
  for (auto _ : state) {
    const auto d = inspect::occlusion_discrepancy(taps, "layer4", input, peaks, o, torch::kCPU, 1);
    benchmark::DoNotOptimize(d.front().data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * n * n);
}
BENCHMARK(BM_OcclusionToLayer4)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

}  // namespace
