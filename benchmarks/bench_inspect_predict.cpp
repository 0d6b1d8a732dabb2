// scenery-inspect predict's cost over the network's: decoding, preprocessing,
// top-k, indoor/outdoor, the class activation map of the top class at the
// image's size, its localisation box and the rendered JPEG, against the
// forward pass alone on the same preprocessed batch (target: >= 80 %).
//   build/benchmarks/scenery-bench-inspect-predict
#include <benchmark/benchmark.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <tbb/parallel_for.h>

#include <filesystem>
#include <random>

#include "data/decode.h"
#include "inspect/scene_predictor.h"
#include "models/registry.h"

namespace {
namespace fs = std::filesystem;
using namespace scenery;

constexpr int kBatch = 16;

struct Fixture {
  models::SceneModel model = models::create_model("wideresnet18", 365);
  fs::path dir = fs::temp_directory_path() / "scenery-bench-predict";
  std::vector<fs::path> files;
  Fixture() {
    model.eval();
    model.to_channels_last();
    fs::create_directories(dir);
    std::mt19937 rng(1);
    for (int i = 0; i < kBatch; ++i) {
      // Places-sized photos: smooth shading plus texture, as JPEG.
      cv::Mat img(256, 256 + 32 * (i % 3), CV_8UC3);
      cv::randu(img, 0, 255);
      cv::GaussianBlur(img, img, cv::Size(0, 0), 2 + i % 4);
      files.push_back(dir / ("image" + std::to_string(i) + ".jpg"));
      cv::imwrite(files.back().string(), img);
    }
    // oneDNN builds its kernels on the first pass: keep that out of both measurements.
    torch::NoGradGuard no_grad;
    model.forward(
        torch::randn({kBatch, 3, 224, 224}).contiguous(torch::MemoryFormat::ChannelsLast));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_ForwardOnly(benchmark::State& state) {
  auto& f = fixture();
  inspect::PredictOptions options;
  inspect::ScenePredictor predictor(f.model, options, torch::kCPU);
  std::vector<torch::Tensor> inputs;
  for (const auto& file : f.files)
    inputs.push_back(predictor.preprocess(data::decode_rgb(file)));
  const auto batch = torch::stack(inputs).contiguous(torch::MemoryFormat::ChannelsLast);
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    auto logits = f.model.forward(batch).logits;
    benchmark::DoNotOptimize(logits.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_ForwardOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

void BM_PredictWithCam(benchmark::State& state) {
  auto& f = fixture();
  inspect::PredictOptions options;  // top-5, CAM of the top class, as the demo
  inspect::ScenePredictor predictor(f.model, options, torch::kCPU);
  for (auto _ : state) {
    // What the tool does per batch: parallel decode, one forward, parallel render + write.
    const auto batch = inspect::decode_batch(predictor, f.files, data::kDefaultMaxImagePixels);
    const auto predictions = predictor.predict(batch.inputs, batch.sizes);
    tbb::parallel_for(size_t{0}, predictions.size(), [&](size_t i) {
      const auto picture =
          inspect::render_activation_picture(batch.images[i], predictions[i].activations[0]);
      cv::imwrite((f.dir / ("cam" + std::to_string(i) + ".jpg")).string(), picture);
    });
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PredictWithCam)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

}  // namespace
