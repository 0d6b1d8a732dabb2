// _info.json beside a sharded dataset: the split table timm's WebDataset
// reader reads (splits.<name>.{name, num_samples, filenames, shard_lengths})
// plus Scenery's own block (class names, ADE20K object names, whether the
// split is labelled), so the shards carry everything a catalog needs.
//
//   {"name": "places365",
//    "splits": {"train": {"name": "train", "num_samples": 1803460,
//                         "filenames": ["train-000000.tar", ...],
//                         "shard_lengths": [4096, ...]}},
//    "scenery": {"format": 1, "classes": [...], "object_names": [...],
//                "labelled": {"train": true}}}
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scenery::data {

struct ShardSplitInfo {
  int64_t num_samples = 0;
  std::vector<std::string> filenames;  // relative to the info file's folder
  std::vector<int64_t> shard_lengths;
  bool labelled = true;
};

struct ShardInfo {
  std::string name;
  std::map<std::string, ShardSplitInfo> splits;
  std::vector<std::string> class_names;
  std::vector<std::string> object_names;
};

inline constexpr const char* kShardInfoFile = "_info.json";

// dir/_info.json, or nullopt when there is none. Throws DataError naming the
// file for malformed JSON or fields of the wrong type.
std::optional<ShardInfo> read_shard_info(const std::filesystem::path& dir);

// Writes dir/_info.json atomically (IoError naming it).
void write_shard_info(const std::filesystem::path& dir, const ShardInfo& info);

}  // namespace scenery::data
