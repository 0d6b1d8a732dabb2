// open_catalog: the one place that maps a dataset name to its reader.
#include <fmt/core.h>
#include <fmt/format.h>

#include <functional>
#include <utility>

#include "core/error.h"
#include "core/option_rules.h"
#include "data/catalog_readers.h"
#include "data/data_options.h"

namespace scenery::data {

namespace {

using Reader = Catalog (*)(const CatalogSpec&);

const std::vector<std::pair<std::string, Reader>>& readers() {
  static const std::vector<std::pair<std::string, Reader>> table = {
      {"places365", read_places365},   {"places365-easy", read_places365_easy},
      {"places205", read_places205},   {"sun397", read_sun397},
      {"mit67", read_mit67},           {"ade20k", read_ade20k},
      {"folder", read_image_folder},   {"list", read_image_list},
      {"webdataset", read_webdataset},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& catalog_datasets() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, reader] : readers())
      n.push_back(name);
    return n;
  }();
  return names;
}

Catalog open_catalog(const CatalogSpec& spec) {
  for (const auto& [name, reader] : readers()) {
    if (name != spec.dataset) continue;
    if (spec.root.empty()) {
      throw ConfigError(
          fmt::format("data.root is not set: expected the folder of the {} dataset", spec.dataset));
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(spec.root, ec)) {
      throw DataError(fmt::format("data.root '{}' is not a folder", spec.root.string()));
    }
    return reader(spec);
  }
  throw_invalid_value("", "data.dataset", spec.dataset, one_of(catalog_datasets()));
}

CatalogSpec catalog_spec_from_config(const Config& config) {
  CatalogSpec spec;
  spec.dataset = config.get<std::string>("data.dataset");
  spec.root = config.get<std::string>("data.root");
  spec.split = config.get<std::string>("data.split");
  spec.partition = config.get<int>("data.partition");
  spec.large = config.get<bool>("data.large");
  spec.list = config.get<std::string>("data.list");
  spec.class_file = config.get<std::string>("data.class_file");
  spec.semantic_maps = config.get<bool>("data.semantic_maps");
  spec.shards = config.get<std::string>("data.shards");
  spec.skip_bad_samples =
      parse_on_error(config.get<std::string>("data.on_error")) == OnError::kSkip;
  return spec;
}

}  // namespace scenery::data
