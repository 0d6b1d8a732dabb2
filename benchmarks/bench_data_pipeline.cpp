// Throughput of the data pipeline on Places-style 256x256 JPEGs: decode, each
// transform, collate, and the whole loader at 1 and 2 threads.
//
// The images are generated on first use into $SCENERY_BENCH_IMAGES (kept, so
// benchmarks/side_by_side_loader.py can read the very same files) or into a
// temp dir. Loader/decode-only benchmarks report items_per_second = images/s.
//
//   build-loader/benchmarks/scenery-bench-data-pipeline --benchmark_filter='Loader|DecodeOnly'
#include <benchmark/benchmark.h>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/catalog.h"
#include "data/decode.h"
#include "data/loader.h"
#include "data/pil_resample.h"
#include "data/transforms.h"

namespace {
namespace fs = std::filesystem;
using namespace scenery::data;

constexpr int kImages = 256;

// Natural-looking content (blurred noise, gradients, edges) so JPEG sizes and
// decode times resemble real photos (~15-25 KB at quality 90).
cv::Mat synthetic_photo(int seed) {
  cv::RNG rng(static_cast<uint64_t>(seed) + 1);
  cv::Mat noise(256, 256, CV_8UC3);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 255);
  cv::Mat img;
  cv::GaussianBlur(noise, img, {0, 0}, 1.5);
  for (int k = 0; k < 6; ++k)
    cv::rectangle(img, {rng.uniform(0, 256), rng.uniform(0, 256)},
                  {rng.uniform(0, 256), rng.uniform(0, 256)},
                  cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), 3);
  return img;
}

const fs::path& image_dir() {
  static const fs::path dir = [] {
    const char* env = std::getenv("SCENERY_BENCH_IMAGES");
    fs::path d = env && *env ? fs::path(env) : fs::temp_directory_path() / "scenery-bench-places";
    fs::create_directories(d);
    for (int i = 0; i < kImages; ++i) {
      const fs::path p = d / ("img_" + std::to_string(i) + ".jpg");
      if (!fs::exists(p))
        cv::imwrite(p.string(), synthetic_photo(i), {cv::IMWRITE_JPEG_QUALITY, 90});
    }
    return d;
  }();
  return dir;
}

fs::path image_path(int i) {
  return image_dir() / ("img_" + std::to_string(i % kImages) + ".jpg");
}

const Catalog& catalog() {
  static const Catalog c = [] {
    Catalog cat("bench", "train", image_dir());
    for (int i = 0; i < 8 * kImages; ++i)
      cat.add("img_" + std::to_string(i % kImages) + ".jpg", i % 365);
    return cat;
  }();
  return c;
}

const cv::Mat& decoded() {
  static const cv::Mat m = decode_rgb(image_path(0));
  return m;
}

void BM_Decode(benchmark::State& state) {
  image_dir();
  int i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(decode_rgb(image_path(i++)).data);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

void BM_RandomResizedCrop(benchmark::State& state) {
  Rng rng(1);
  RandomResizedCropParams p;
  for (auto _ : state) {
    const CropBox b = random_resized_crop_box(decoded().size(), p, rng);
    benchmark::DoNotOptimize(crop_resize(decoded(), b, {224, 224}).data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RandomResizedCrop);

// The loader's fused train step: Pillow-exact resample of the crop,
// normalised row by row into a batch slot (flip folded into the taps), with
// the AVX2 kernels (Arg 1) or the portable ones (Arg 0); then OpenCV's
// INTER_LINEAR + the separate normalize pass, as the loader did before.
void BM_ResizeNormalizeFused(benchmark::State& state) {
  const bool before = set_pil_simd(state.range(0) != 0);
  Rng rng(1);
  RandomResizedCropParams p;
  std::vector<float> out(3 * 224 * 224);
  for (auto _ : state) {
    const CropBox b = random_resized_crop_box(decoded().size(), p, rng);
    pil_resize_normalize_into(decoded()(b.rect()), {224, 224}, {}, {}, out.data());
    benchmark::ClobberMemory();
  }
  set_pil_simd(before);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResizeNormalizeFused)->Arg(0)->Arg(1);

void BM_ResizeThenNormalizeOpenCV(benchmark::State& state) {
  Rng rng(1);
  RandomResizedCropParams p;
  std::vector<float> out(3 * 224 * 224);
  for (auto _ : state) {
    const CropBox b = random_resized_crop_box(decoded().size(), p, rng);
    normalize_into(crop_resize(decoded(), b, {224, 224}, Interp::kLinear), {}, out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResizeThenNormalizeOpenCV);

void BM_HorizontalFlip(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(hflip(decoded()).data);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HorizontalFlip);

void BM_ColorJitter(benchmark::State& state) {
  cv::Mat img = crop_resize(decoded(), {0, 0, 256, 256}, {224, 224});
  for (auto _ : state) {
    cv::Mat m = img.clone();
    apply_jitter(m, {1.2, 0.8, 1.1});
    benchmark::DoNotOptimize(m.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ColorJitter);

void BM_ResizeCenterCrop(benchmark::State& state) {
  const cv::Mat big = synthetic_photo(7);  // eval on a non-square 500x375 photo
  cv::Mat img;
  cv::resize(big, img, {500, 375});
  for (auto _ : state)
    benchmark::DoNotOptimize(eval_transform(Views{img, {}, {}, {}}, {}).image.data);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResizeCenterCrop);

void BM_TenCrop(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(ten_crop(decoded(), {})[9].data);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TenCrop);

void BM_Normalize(benchmark::State& state) {
  const cv::Mat img = crop_resize(decoded(), {0, 0, 256, 256}, {224, 224});
  std::vector<float> out(3 * 224 * 224);
  const bool channels_last = state.range(0) != 0;
  for (auto _ : state) {
    normalize_into(img, {}, out.data(), channels_last);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Normalize)->Arg(0)->Arg(1);

// Collate as the loader does it: normalised straight into the batch tensor.
void BM_CollateInPlace(benchmark::State& state) {
  const cv::Mat img = crop_resize(decoded(), {0, 0, 256, 256}, {224, 224});
  for (auto _ : state) {
    auto batch = torch::empty({32, 3, 224, 224});
    for (int k = 0; k < 32; ++k)
      normalize_into(img, {}, batch.data_ptr<float>() + k * 3 * 224 * 224);
    benchmark::DoNotOptimize(batch.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_CollateInPlace);

// The naive alternative for comparison: per-sample tensors, then torch::stack.
void BM_CollateStack(benchmark::State& state) {
  const cv::Mat img = crop_resize(decoded(), {0, 0, 256, 256}, {224, 224});
  for (auto _ : state) {
    std::vector<torch::Tensor> samples;
    for (int k = 0; k < 32; ++k)
      samples.push_back(to_normalized_tensor(img));
    benchmark::DoNotOptimize(torch::stack(samples).data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_CollateStack);

// Decode only, on `threads` TBB threads: the ceiling the full pipeline is
// compared with.
void BM_DecodeOnly(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  image_dir();
  cv::setNumThreads(0);
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] {
      tbb::parallel_for(
          0, kImages, [&](int i) { benchmark::DoNotOptimize(decode_rgb(image_path(i)).data); },
          tbb::simple_partitioner());
    });
  }
  state.SetItemsProcessed(state.iterations() * kImages);
}
BENCHMARK(BM_DecodeOnly)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Per-image CPU cost on the calling thread, so the pipeline/decode share can
// be read from the CPU column even on a busy machine: decode only, and the
// loader's train work per sample (decode of the crop's neighbourhood ->
// Pillow-exact resample with the flip and normalisation fused -> written
// into a reused batch buffer).
void BM_SerialDecodeOnly(benchmark::State& state) {
  image_dir();
  int i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(decode_rgb(image_path(i++)).data);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerialDecodeOnly);

// Decoding only around a RandomResizedCrop box, as the loader's train mode does.
void BM_SerialDecodeForCrop(benchmark::State& state) {
  image_dir();
  TrainTransformParams p;
  int i = 0;
  for (auto _ : state) {
    Rng rng = Rng::for_sample(0, 0, static_cast<uint64_t>(i));
    const auto part = decode_rgb_region(image_path(i++), [&](cv::Size size) {
      return sample_train_geometry(size, p, rng).box.rect();
    });
    // A copy: DoNotOptimize of a const reference is deprecated (Google Benchmark 1.9).
    uchar* pixels = part.pixels.data;
    benchmark::DoNotOptimize(pixels);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerialDecodeForCrop);

void BM_SerialTrainPipeline(benchmark::State& state) {
  image_dir();
  auto batch = torch::empty({32, 3, 224, 224});
  TrainTransformParams p;
  int i = 0;
  for (auto _ : state) {
    Rng rng = Rng::for_sample(0, 0, static_cast<uint64_t>(i));
    TrainGeometry g;
    const auto part = decode_rgb_region(image_path(i), [&](cv::Size size) {
      g = sample_train_geometry(size, p, rng);
      return g.box.rect();
    });
    const cv::Mat region = part.region(g.box.rect());
    pil_resize_normalize_into(region, {224, 224}, {}, {},
                              batch.data_ptr<float>() + (i % 32) * 3 * 224 * 224, false, g.flip);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerialTrainPipeline);

// The whole loader for one epoch: decode -> RandomResizedCrop -> flip ->
// normalise -> collate (train), or Resize + CenterCrop (eval), batch 32.
// Epochs of 2,048 samples (the 256 files eight times), so the pipeline's
// start and drain at epoch boundaries weigh as little as in real epochs.
// With `uint8`, the loader collates pixels and the consumer normalises each
// batch (normalize_batch on as many torch threads), as scenery-train does on
// a GPU: the figure still covers decode -> RandomResizedCrop -> flip ->
// normalise -> collate, and shows what that split costs on a CPU.
void run_loader(benchmark::State& state, LoaderMode mode, bool uint8) {
  LoaderOptions o;
  o.workers = static_cast<int>(state.range(0));
  o.batch_size = 32;
  o.prefetch = 4;
  o.mode = mode;
  o.uint8_images = uint8;
  torch::set_num_threads(o.workers);
  Loader loader(catalog(), o);
  int64_t epoch = 0, images = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    while (auto b = loader.next()) {
      if (uint8) benchmark::DoNotOptimize(normalize_batch(b->images, o.normalize).data_ptr());
      images += b->size();
    }
  }
  state.SetItemsProcessed(images);
}
void BM_LoaderTrain(benchmark::State& state) {
  run_loader(state, LoaderMode::kTrain, false);
}
void BM_LoaderTrainUint8(benchmark::State& state) {
  run_loader(state, LoaderMode::kTrain, true);
}
void BM_LoaderEval(benchmark::State& state) {
  run_loader(state, LoaderMode::kEval, false);
}
BENCHMARK(BM_LoaderTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoaderTrainUint8)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoaderEval)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
