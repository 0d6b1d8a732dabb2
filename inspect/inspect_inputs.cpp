#include "inspect/inspect_inputs.h"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "data/catalog_readers.h"
#include "data/catalog_text.h"
#include "data/data_options.h"
#include "data/decode.h"
#include "distributed/launch.h"
#include "eval/semantic_provider.h"
#include "models/registry.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

void add_inspect_input_options(Config& c, const std::string& out_default,
                               const std::string& out_holds) {
  c.section("inspect", "[inspect] looking inside a trained model (scenery-inspect)");
  c.add<std::string>("inspect.checkpoint", "", "checkpoint of the network to inspect");
  c.add<std::string>("inspect.random_arch", "",
                     "instead of a checkpoint: this registry architecture at its random "
                     "initialisation (the baseline a trained network is compared with)");
  c.add<int>("inspect.random_classes", 365, "classes of the random network's classifier",
             Bounds::at_least(1));
  c.add<int>("inspect.seed", 0, "seed of the random network's initialisation");
  c.add<std::string>("inspect.input", "",
                     "an image or a folder of images (searched recursively); empty: the "
                     "dataset split named by the data.* options");
  c.add<std::string>("inspect.out", out_default, "folder for " + out_holds);
  c.add_choice("inspect.device", "auto", dist::device_choices(),
               "auto (cuda when available), cpu or cuda");
  c.add<int>("inspect.batch_size", 16, "images per forward pass", Bounds::at_least(1));
  c.add<int>("inspect.input_size", 0,
             "network input side S (0: the checkpoint's input size); larger inputs give "
             "finer maps",
             Bounds::at_least(0));
}

void add_inspect_layer_options(Config& c) {
  c.add_list<std::string>("units.layers", "layer4",
                          "comma-separated layers, as the state dict names them (layer4, "
                          "layer3.1, features.28, inception4e); an unknown name lists the valid "
                          "ones");
}

InspectedModel load_inspected_model(const Config& config) {
  const std::string path = config.get<std::string>("inspect.checkpoint");
  const std::string random_arch = config.get<std::string>("inspect.random_arch");
  if (path.empty() == random_arch.empty()) {
    throw UsageError(
        "give the network to inspect: --inspect.checkpoint FILE, or --inspect.random_arch ARCH "
        "for a randomly initialised one");
  }
  const torch::Device device =
      dist::rank_device("inspect.device", config.get<std::string>("inspect.device"), 0);
  if (!random_arch.empty()) {
    const int seed = config.get<int>("inspect.seed");
    torch::manual_seed(static_cast<uint64_t>(seed));
    models::CheckpointMeta meta;
    meta.arch = random_arch;
    meta.num_classes = config.get<int>("inspect.random_classes");
    InspectedModel m{models::create_model(random_arch, meta.num_classes), meta,
                     fmt::format("random {} (seed {})", random_arch, seed), "", device};
    m.model.to(device);
    m.model.to_channels_last();
    return m;
  }
  models::Checkpoint checkpoint = models::read_checkpoint(path);
  if (checkpoint.meta.arch.empty()) {
    throw CheckpointError(
        fmt::format("'{}' holds bare weights without an architecture; convert it with "
                    "scripts/convert_places365_checkpoint.py",
                    path));
  }
  InspectedModel m{models::create_model(checkpoint.meta.arch, checkpoint.meta.num_classes),
                   checkpoint.meta, path, path, device};
  models::load_state_dict(m.model, checkpoint.state_dict, models::LoadMode::kStrict, path);
  m.model.to(device);
  m.model.to_channels_last();
  return m;
}

int inspect_input_size(const Config& config, const models::CheckpointMeta& meta) {
  const int size = config.get<int>("inspect.input_size");
  return size > 0 ? size : static_cast<int>(meta.input_size);
}

std::vector<std::string> inspect_layers(const Config& config) {
  return config.get_list<std::string>("units.layers");
}

UnitScanOptions unit_scan_options_from_config(const Config& config,
                                              const models::CheckpointMeta& meta) {
  UnitScanOptions o;
  o.layers = inspect_layers(config);
  o.input_size = inspect_input_size(config, meta);
  o.normalize = eval::checkpoint_normalization(meta);
  o.batch_size = config.get<int>("inspect.batch_size");
  o.max_pixels = config.get<int64_t>("data.max_image_pixels");
  return o;
}

InspectInputs list_inspect_inputs(const Config& config) {
  InspectInputs out;
  const fs::path input = config.get<std::string>("inspect.input");
  if (!input.empty()) {
    if (fs::is_regular_file(input)) {
      out.images.push_back({input, input.filename().string(), -1, {}});
    } else if (fs::is_directory(input)) {
      for (const auto& e : fs::recursive_directory_iterator(input)) {
        if (e.is_regular_file() && data::is_image_file(e.path()))
          out.images.push_back({e.path(), fs::relative(e.path(), input).generic_string(), -1, {}});
      }
      std::sort(out.images.begin(), out.images.end(),
                [](const InputImage& a, const InputImage& b) { return a.name < b.name; });
      if (out.images.empty())
        throw DataError(fmt::format("{}: no image files in the folder", input.string()));
    } else {
      throw DataError(
          fmt::format("inspect.input: '{}' is neither an image nor a folder", input.string()));
    }
    return out;
  }
  if (config.get<std::string>("data.root").empty()) {
    throw UsageError(
        "give what to inspect: --inspect.input IMAGE|FOLDER, or a dataset split with "
        "--data.dataset, --data.root and --data.split");
  }
  const data::Catalog catalog = data::open_catalog(data::catalog_spec_from_config(config));
  out.class_names = catalog.class_names();
  out.object_names = catalog.object_names();
  out.images.reserve(catalog.size());
  for (size_t i = 0; i < catalog.size(); ++i) {
    const data::Sample s = catalog.at(i);
    out.images.push_back({s.image, std::string(catalog.image_path(i)), s.label, s.mask});
  }
  log::info("{} {}: {} images{}", catalog.dataset(), catalog.split(), catalog.size(),
            catalog.has_masks() ? " with annotations" : "");
  return out;
}

}  // namespace scenery::inspect
