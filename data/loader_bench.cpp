#include "data/loader_bench.h"

#include <fmt/core.h>
#include <sys/resource.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>

#include "core/error.h"
#include "data/decode.h"

namespace scenery::data {
namespace {

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double cpu_seconds() {  // the whole process: every loader thread counts
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

std::vector<LoaderBenchRow> bench_loader(const Catalog& catalog, const LoaderOptions& base,
                                         const LoaderBenchOptions& options) {
  if (options.batches < 1)
    throw ConfigError(fmt::format("--batches: expected >= 1, got {}", options.batches));
  std::vector<LoaderBenchRow> rows;
  for (int threads : options.threads) {
    if (threads < 1) throw ConfigError(fmt::format("--threads: {} is not >= 1", threads));
    LoaderOptions o = base;
    o.workers = threads;
    Loader loader(catalog, o);
    LoaderBenchRow row;
    row.threads = threads;
    std::vector<int64_t> seen;
    const double w0 = wall_seconds(), c0 = cpu_seconds();
    int64_t epoch = 0, batches = 0;
    while (batches < options.batches) {
      loader.start_epoch(epoch++);
      int64_t in_epoch = 0;
      while (batches < options.batches) {
        auto b = loader.next();
        if (!b) break;
        ++batches, ++in_epoch;
        row.images += b->size();
        const auto idx = b->indices.contiguous();
        seen.insert(seen.end(), idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
      }
      if (in_epoch == 0)
        throw DataError(fmt::format("{} {}: no batch could be loaded (see the warnings above)",
                                    catalog.dataset(), catalog.split()));
    }
    loader.stop();
    row.seconds = wall_seconds() - w0;
    row.cpu_seconds = cpu_seconds() - c0;

    // The same files, decoded whole and nothing else, on as many threads.
    tbb::task_arena arena(threads);
    const double d0 = wall_seconds();
    arena.execute([&] {
      tbb::parallel_for(size_t{0}, seen.size(), [&](size_t i) {
        try {
          decode_sample_rgb(catalog.at(static_cast<size_t>(seen[i])), o.max_image_pixels);
        } catch (const DataError&) {
          // The loader skipped it too.
        }
      });
    });
    const double decode_s = wall_seconds() - d0;
    row.decode_images_per_s = decode_s > 0 ? static_cast<double>(seen.size()) / decode_s : 0;
    rows.push_back(row);
  }
  return rows;
}

std::string format_loader_bench(const Catalog& catalog, const LoaderOptions& base,
                                const std::vector<LoaderBenchRow>& rows) {
  const bool train = base.mode == LoaderMode::kTrain;
  const int size = train ? base.train.crop.size : base.eval.crop;
  std::string out = fmt::format(
      "{} {} at {}: {} images; {} pipeline ({}), {} px, batch {}\n", catalog.dataset(),
      catalog.split(), catalog.root().string(), catalog.size(), train ? "train" : "eval",
      train ? "RandomResizedCrop + flip + augmentations" : "Resize + CenterCrop", size,
      base.batch_size);
  out += fmt::format("{:>7} {:>8} {:>10} {:>12} {:>14} {:>12}\n", "threads", "images", "img/s",
                     "CPU ms/img", "decode img/s", "of decode");
  for (const auto& r : rows) {
    out += fmt::format("{:>7} {:>8} {:>10.1f} {:>12.2f} {:>14.1f} {:>11.0f}%\n", r.threads,
                       r.images, r.images_per_s(), r.cpu_ms_per_image(), r.decode_images_per_s,
                       100 * r.decode_share());
  }
  out +=
      "img/s: the whole pipeline (decode, crop, resample, augment, collate); decode img/s: the "
      "same files decoded whole, nothing else. A GPU step needing N img/s needs a thread count "
      "whose img/s exceeds N.\n";
  return out;
}

}  // namespace scenery::data
