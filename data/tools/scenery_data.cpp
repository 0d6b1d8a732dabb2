// scenery-data: generate synthetic datasets and inspect real ones.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/main_guard.h"
#include "core/progress.h"
#include "data/catalog_readers.h"
#include "data/data_options.h"
#include "data/dataset_check.h"
#include "data/loader.h"
#include "data/loader_bench.h"
#include "data/sampler.h"
#include "data/shard_index.h"
#include "data/shard_pack.h"
#include "data/synth.h"

namespace {

namespace data = scenery::data;

int run_config(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "resolve and print the [data] configuration");
  scenery::add_common_options(config);
  data::add_data_options(config);
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  fmt::print("{}", config.dump());
  return 0;
}

int run_synth(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "write a synthetic dataset in an official layout");
  scenery::add_common_options(config);
  config.add_choice("layout", "places365", data::synth_layouts(),
                    fmt::format("layout: {}", fmt::join(data::synth_layouts(), ", ")));
  config.add<std::string>("out", "", "output folder (then use it as data.root)");
  config.add<int>("classes", 10, "scene classes", scenery::Bounds::at_least(1));
  config.add<int>("per-class", 20, "training images per class (val/test: a quarter, at least 1)",
                  scenery::Bounds::at_least(1));
  config.add<int64_t>("seed", 0, "seed; the same arguments give the same bytes");
  config.add<int>("size", 256, "side of *_256 images, shorter side of the others",
                  scenery::Bounds::at_least(1));
  config.add<bool>("large", false, "places365: also write data_large/val_large/test_large (512)");
  config.add<bool>("semantic-maps", false,
                   "ade20k: also write noisy_annotations_RGB / noisy_scores_RGB");
  config.add_choice("difficulty", "easy", data::synth_difficulty_names(),
                    "easy (every class its own look), medium or hard (classes share "
                    "backgrounds and differ in their objects; clutter, light and colour "
                    "vary): data/synth.h");
  config.add<int>("family-size", 0,
                  "scene classes per family, sharing background and object layout and "
                  "differing only in their objects (0: the difficulty's own; medium 2, hard 3)",
                  scenery::Bounds::at_least(0));
  config.add<int>("eval-per-class", 0,
                  "val and test images per class (0: a quarter of --per-class)",
                  scenery::Bounds::at_least(0));
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  data::SynthOptions o;
  o.difficulty = data::synth_difficulty(config.get<std::string>("difficulty"));
  if (const int family = config.get<int>("family-size"); family != 0)
    o.difficulty.family_size = family;
  o.eval_per_class = config.get<int>("eval-per-class");
  o.layout = config.get<std::string>("layout");
  o.out = config.get<std::string>("out");
  o.classes = config.get<int>("classes");
  o.per_class = config.get<int>("per-class");
  o.seed = static_cast<uint64_t>(config.get<int64_t>("seed"));
  o.size = config.get<int>("size");
  o.large = config.get<bool>("large");
  o.semantic_maps = config.get<bool>("semantic-maps");
  scenery::Progress::Options po;
  po.unit = "img";
  scenery::Progress progress("synth " + o.layout, 0, po);
  o.on_image = [&] { progress.advance(); };
  const data::SynthResult r = data::write_synthetic_dataset(o);
  progress.finish();
  std::string splits;
  for (const auto& [split, n] : r.split_sizes)
    splits += fmt::format(" {} {}", split, n);
  scenery::log::info(
      "wrote {} layout to {}: {} classes,{} ({} image files); read it with "
      "--data.dataset {} --data.root {}",
      o.layout, o.out.string(), r.class_names.size(), splits, r.images, o.layout, o.out.string());
  return 0;
}

int run_scan(const std::string& program, const std::vector<std::string>& args, bool decode) {
  scenery::Config config(program, decode ? "decode every file of a dataset split and report "
                                           "missing/corrupt files, classes and image sizes"
                                         : "class histogram of a dataset split (no decoding)");
  scenery::add_common_options(config);
  data::add_data_options(config);
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  data::CheckOptions o;
  o.decode = decode;
  o.max_image_pixels = config.get<int64_t>("data.max_image_pixels");
  const data::CheckReport report = data::check_catalog(catalog, o);
  fmt::print("{}", data::format_check_report(catalog, report));
  return report.ok() ? scenery::kExitOk : scenery::kExitFailure;
}

int run_bench(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program,
                         "run a config's data pipeline on a dataset for N batches per thread "
                         "count: images/s, CPU per image, share of decode-only throughput");
  scenery::add_common_options(config);
  data::add_data_options(config);
  config.add<int64_t>("batches", 50, "batches timed per thread count",
                      scenery::Bounds::at_least(1));
  config.add_list<int>("threads", "1,2,4", "data.workers values to try",
                       scenery::ListRule::any_length(scenery::Bounds::at_least(1)));
  config.add_choice("pipeline", "train", {"train", "eval"},
                    "train (augmenting crops) or eval pipeline");
  // A training recipe is read as it is: its other sections are not ours.
  config.ignore_file_sections({"model", "train", "eval", "dist"});
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  const auto pipeline = config.get<std::string>("pipeline");
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  const auto base = data::loader_options_from_config(config, pipeline == "train");
  data::LoaderBenchOptions o;
  o.batches = config.get<int64_t>("batches");
  o.threads = config.get_list<int>("threads");
  const auto rows = data::bench_loader(catalog, base, o);
  fmt::print("{}", data::format_loader_bench(catalog, base, rows));
  return scenery::kExitOk;
}

int run_pack(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program,
                         "write a dataset split (any data.dataset) as WebDataset tar shards "
                         "OUT/PREFIX-000000.tar, ... with an index beside each and _info.json");
  scenery::add_common_options(config);
  data::add_data_options(config);
  config.add<std::string>("out", "",
                          "folder for the shards (then --data.dataset webdataset "
                          "--data.root OUT)");
  config.add<std::string>("prefix", "", "shard name prefix (default: data.split)");
  config.add<int64_t>("shard-mb", 256, "close a shard before it exceeds this many MiB",
                      scenery::Bounds::at_least(1));
  config.add<int64_t>("shard-samples", 0, "close a shard at this many samples (0: by size)",
                      scenery::Bounds::at_least(0));
  config.add<bool>("shuffle", false, "pre-shuffle the samples (seeded by --seed) before sharding");
  config.add<int64_t>("seed", 0, "seed of --shuffle");
  config.ignore_file_sections({"model", "train", "eval", "dist", "log"});
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  data::PackOptions o;
  o.out = config.get<std::string>("out");
  o.prefix = config.get<std::string>("prefix");
  o.shard_bytes = static_cast<uint64_t>(config.get<int64_t>("shard-mb")) << 20;
  o.shard_samples = config.get<int64_t>("shard-samples");
  o.shuffle = config.get<bool>("shuffle");
  o.seed = static_cast<uint64_t>(config.get<int64_t>("seed"));
  o.skip_bad =
      data::parse_on_error(config.get<std::string>("data.on_error")) == data::OnError::kSkip;
  o.max_image_pixels = config.get<int64_t>("data.max_image_pixels");
  scenery::Progress::Options po;
  po.unit = "img";
  scenery::Progress progress("pack " + catalog.split(), static_cast<int64_t>(catalog.size()), po);
  o.on_samples = [&](int64_t n) { progress.advance(n); };
  const data::PackResult r = data::pack_shards(catalog, o);
  progress.finish();
  scenery::log::info(
      "packed {} samples into {} shard(s) in {} ({} kept from an earlier run, {} damaged input(s) "
      "skipped); read them with --data.dataset webdataset --data.root {} --data.split {}",
      r.samples, r.shards, o.out.string(), r.shards_kept, r.skipped, o.out.string(),
      o.prefix.empty() ? catalog.split() : o.prefix);
  return scenery::kExitOk;
}

// What a sample is called in `order`'s output: its key for shards, its path
// under data.root for files.
std::string sample_name(const data::Catalog& catalog, size_t i) {
  const data::Sample s = catalog.at(i);
  if (!s.shard.empty()) {
    const auto member = s.image.lexically_relative(s.shard).generic_string();
    const auto parts = data::split_member_name(member);
    return parts ? parts->first : member;
  }
  const auto rel = s.image.lexically_relative(catalog.root());
  return rel.empty() ? s.image.string() : rel.generic_string();
}

// Share of neighbours (samples i and i + 1 of the catalog, adjacent in a
// shard) that land in the same global batch of the epoch's order.
double same_batch_share(const std::vector<int64_t>& order, int64_t global_batch) {
  std::vector<int64_t> position(order.size());
  for (size_t p = 0; p < order.size(); ++p)
    position[static_cast<size_t>(order[p])] = static_cast<int64_t>(p);
  int64_t same = 0;
  for (size_t i = 0; i + 1 < position.size(); ++i)
    same += position[i] / global_batch == position[i + 1] / global_batch;
  return position.size() > 1 ? static_cast<double>(same) / static_cast<double>(position.size() - 1)
                             : 0;
}

std::string describe_mixing(int64_t n, const data::SamplerOptions& o, int64_t epoch) {
  const int64_t global_batch = o.batch_size * o.world_size;
  const auto order =
      data::epoch_order(n, o.seed, epoch, o.shuffle, o.shuffle_block, o.shuffle_window);
  const auto full = data::epoch_order(n, o.seed, epoch, true);
  return fmt::format(
      "{} samples, global batch {} ({} x {} ranks): neighbours in one global batch: {:.4f}% "
      "with this order (block {}, window {}), {:.4f}% with a full permutation (expected "
      "{:.4f}%)\n",
      n, global_batch, o.batch_size, o.world_size, 100 * same_batch_share(order, global_batch),
      o.shuffle_block, o.shuffle_window, 100 * same_batch_share(full, global_batch),
      n > 1 ? 100.0 * static_cast<double>(global_batch - 1) / static_cast<double>(n - 1) : 0.0);
}

int run_order(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program,
                         "print the samples one rank trains on in an epoch, in order (the same "
                         "order scenery-train uses for these options)");
  scenery::add_common_options(config);
  data::add_data_options(config);
  config.add<int64_t>("epoch", 1, "epoch (1-based, as the training log counts)",
                      scenery::Bounds::at_least(1));
  config.add<bool>("batches", false, "print an empty line after each batch");
  config.add<bool>("mixing", false,
                   "print instead how often samples adjacent in the dataset (a shard) share a "
                   "global batch, for this order and for a full permutation");
  config.section("train", "[train] (only drop_last is read here)");
  config.add<bool>("train.drop_last", true, "as scenery-train: only full batches, equal per rank");
  config.section("dist", "[dist] (only world_size and rank are read here)");
  config.add<int>("dist.world_size", 1, "data-parallel ranks", scenery::Bounds::at_least(1));
  config.add<int>("dist.rank", 0, "the rank whose order is printed", scenery::Bounds::at_least(0));
  config.ignore_file_sections({"model", "train", "eval", "dist", "log"});
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  const auto lo = data::loader_options_from_config(config, true);
  data::SamplerOptions so;
  so.batch_size = lo.batch_size;
  so.shuffle = lo.shuffle;
  so.seed = lo.seed;
  so.world_size = config.get<int>("dist.world_size");
  so.rank = config.get<int>("dist.rank");
  so.drop_last = config.get<bool>("train.drop_last");
  so.shuffle_block = lo.shuffle_block;
  so.shuffle_window = lo.shuffle_window;
  if (so.rank >= so.world_size)
    throw scenery::ConfigError(fmt::format("dist.rank = {} outside 0..{} (dist.world_size = {})",
                                           so.rank, so.world_size - 1, so.world_size));
  if (config.get<bool>("mixing")) {
    fmt::print("{}", describe_mixing(static_cast<int64_t>(catalog.size()), so,
                                     config.get<int64_t>("epoch") - 1));
    return scenery::kExitOk;
  }
  data::Sampler sampler(static_cast<int64_t>(catalog.size()), so);
  sampler.set_epoch(config.get<int64_t>("epoch") - 1);
  const bool batches = config.get<bool>("batches");
  std::string out;
  for (int64_t b = 0; b < sampler.num_batches(); ++b) {
    for (int64_t i : sampler.batch(b))
      out += sample_name(catalog, static_cast<size_t>(i)) + "\n";
    if (batches) out += "\n";
  }
  fmt::print("{}", out);
  return scenery::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return scenery::run_main("scenery-data", [&] {
    return scenery::dispatch_subcommand(
        "scenery-data", argc, argv,
        {
            {"config", "print the resolved [data] configuration", run_config},
            {"synth", "write a synthetic dataset in an official layout", run_synth},
            {"check", "decode a dataset split; report missing/corrupt files (exit 1 if any)",
             [](const std::string& p, const std::vector<std::string>& a) {
               return run_scan(p, a, true);
             }},
            {"pack", "write a dataset split as WebDataset tar shards (with indexes)", run_pack},
            {"order", "print the samples a rank reads in an epoch, in order", run_order},
            {"bench", "time a config's data pipeline on a dataset at several thread counts",
             run_bench},
            {"stats", "class histogram of a dataset split, without decoding",
             [](const std::string& p, const std::vector<std::string>& a) {
               return run_scan(p, a, false);
             }},
        });
  });
}
