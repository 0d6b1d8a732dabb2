// `scenery-data bench`: will the loader keep up with the GPUs? Runs a
// config's train (or eval) pipeline on the user's own dataset for a number of
// batches at each thread count and reports images/s, CPU time per image and
// how that compares with decoding the same files alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/loader.h"

namespace scenery::data {

struct LoaderBenchOptions {
  int64_t batches = 50;               // per thread count (epochs repeat if the split is smaller)
  std::vector<int> threads{1, 2, 4};  // data.workers values to try
};

struct LoaderBenchRow {
  int threads = 0;
  int64_t images = 0;
  double seconds = 0, cpu_seconds = 0;  // wall and process CPU (all threads) for the pipeline
  double decode_images_per_s = 0;       // whole-image decode of the same files, same threads
  double images_per_s() const { return seconds > 0 ? images / seconds : 0; }
  double cpu_ms_per_image() const { return images > 0 ? 1000 * cpu_seconds / images : 0; }
  double decode_share() const {
    return decode_images_per_s > 0 ? images_per_s() / decode_images_per_s : 0;
  }
};

// `base` is the pipeline (mode, sizes, augmentations) as the config gives it;
// its workers are replaced by each thread count.
std::vector<LoaderBenchRow> bench_loader(const Catalog& catalog, const LoaderOptions& base,
                                         const LoaderBenchOptions& options);

std::string format_loader_bench(const Catalog& catalog, const LoaderOptions& base,
                                const std::vector<LoaderBenchRow>& rows);

}  // namespace scenery::data
