#include "data/shard_info.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace scenery::data {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<ShardInfo> read_shard_info(const fs::path& dir) {
  const fs::path file = dir / kShardInfoFile;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    ShardInfo info;
    info.name = j.value("name", "");
    if (j.contains("splits")) {
      for (const auto& [name, s] : j.at("splits").items()) {
        ShardSplitInfo split;
        split.num_samples = s.at("num_samples").get<int64_t>();
        split.filenames = s.at("filenames").get<std::vector<std::string>>();
        split.shard_lengths = s.at("shard_lengths").get<std::vector<int64_t>>();
        info.splits[name] = std::move(split);
      }
    }
    if (j.contains("scenery")) {
      const json& sc = j.at("scenery");
      info.class_names = sc.value("classes", std::vector<std::string>{});
      info.object_names = sc.value("object_names", std::vector<std::string>{});
      if (sc.contains("labelled"))
        for (const auto& [name, v] : sc.at("labelled").items())
          if (info.splits.count(name)) info.splits[name].labelled = v.get<bool>();
    }
    return info;
  } catch (const json::exception& e) {
    throw DataError(fmt::format("{}: not a valid shard info file: {}", file.string(), e.what()));
  }
}

void write_shard_info(const fs::path& dir, const ShardInfo& info) {
  json j;
  j["name"] = info.name;
  json splits = json::object(), labelled = json::object();
  for (const auto& [name, s] : info.splits) {
    splits[name] = {{"name", name},
                    {"num_samples", s.num_samples},
                    {"filenames", s.filenames},
                    {"shard_lengths", s.shard_lengths}};
    labelled[name] = s.labelled;
  }
  j["splits"] = splits;
  j["scenery"] = {{"format", 1},
                  {"classes", info.class_names},
                  {"object_names", info.object_names},
                  {"labelled", labelled}};
  write_file_atomic(dir / kShardInfoFile, j.dump(1) + "\n");
}

}  // namespace scenery::data
