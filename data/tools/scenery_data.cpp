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
            {"bench", "time a config's data pipeline on a dataset at several thread counts",
             run_bench},
            {"stats", "class histogram of a dataset split, without decoding",
             [](const std::string& p, const std::vector<std::string>& a) {
               return run_scan(p, a, false);
             }},
        });
  });
}
