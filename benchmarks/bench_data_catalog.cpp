// Reading the Places365-Standard train list (1,803,460 lines) must take about
// a second and stay well under 300 MB: it runs at the start of every epoch-0.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/catalog_readers.h"

namespace {
namespace fs = std::filesystem;

// A text-only Places365 root (no images), written once per process.
const fs::path& places365_root() {
  static const fs::path root = [] {
    const fs::path dir = fs::temp_directory_path() / "scenery-bench-catalog";
    fs::create_directories(dir);
    std::ofstream cats(dir / "categories_places365.txt", std::ios::binary);
    for (int c = 0; c < 365; ++c)
      cats << (c ? "\n" : "") << "/c/class_" << c << "/indoor " << c;
    std::ofstream list(dir / "places365_train_standard.txt", std::ios::binary);
    char line[96];
    for (int i = 0; i < 1803460; ++i) {
      const int c = i % 365;
      list.write(line, std::snprintf(line, sizeof line, "/c/class_%d/indoor/%08d.jpg %d\n", c,
                                     i / 365 + 1, c));
    }
    return dir;
  }();
  return root;
}

void BM_Places365TrainCatalog(benchmark::State& state) {
  scenery::data::CatalogSpec spec;
  spec.dataset = "places365";
  spec.root = places365_root();
  size_t bytes = 0, samples = 0;
  for (auto _ : state) {
    const scenery::data::Catalog c = scenery::data::open_catalog(spec);
    bytes = c.memory_bytes();
    samples = c.size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["MB"] = static_cast<double>(bytes) / (1 << 20);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples));
}
BENCHMARK(BM_Places365TrainCatalog)->Unit(benchmark::kMillisecond);

}  // namespace
