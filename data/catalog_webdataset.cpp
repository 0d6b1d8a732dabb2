// read_webdataset: a split stored as WebDataset tar shards (data/shard_index.h).
#include <tbb/parallel_for.h>

#include <fmt/core.h>

#include <unordered_map>

#include "core/error.h"
#include "core/log.h"
#include "data/catalog_readers.h"
#include "data/catalog_text.h"
#include "data/shard_index.h"
#include "data/shard_info.h"
#include "data/shard_pattern.h"

namespace scenery::data {

namespace fs = std::filesystem;

namespace {

// Faults are warned one by one up to this many, then counted.
constexpr int kFaultsWarned = 20;

class FaultReport {
 public:
  explicit FaultReport(bool skip) : skip_(skip) {}
  void add(const std::string& where, const std::string& reason) {
    const std::string message = fmt::format("{}: {}", where, reason);
    if (!skip_) throw DataError(message + " (data.on_error = skip leaves such samples out)");
    if (count_++ < kFaultsWarned) log::warn("skipped {}", message);
  }
  void summary(const std::string& what) const {
    if (count_ > kFaultsWarned)
      log::warn("{}: {} samples skipped in all ({} named above)", what, count_, kFaultsWarned);
  }

 private:
  bool skip_;
  int64_t count_ = 0;
};

std::vector<std::string> class_names_for(const CatalogSpec& spec,
                                         const std::optional<ShardInfo>& info, int64_t max_label) {
  if (!spec.class_file.empty()) {
    const fs::path file =
        spec.class_file.is_absolute() ? spec.class_file : spec.root / spec.class_file;
    const std::string text = read_text_file(file, "category file");
    LineReader lines(text);
    std::string_view line;
    std::vector<std::string> names;
    while (lines.next(line))
      if (!trim_view(line).empty()) names.emplace_back(trim_view(line));
    if (names.empty())
      throw DataError(fmt::format("category file '{}' lists no class", file.string()));
    return names;
  }
  if (info && !info->class_names.empty()) return info->class_names;
  std::vector<std::string> names;
  for (int64_t i = 0; i <= max_label; ++i)
    names.push_back(std::to_string(i));
  return names;
}

}  // namespace

Catalog read_webdataset(const CatalogSpec& spec) {
  const std::string patterns = spec.shards.empty() ? spec.split + "-*.tar" : spec.shards;
  const std::vector<fs::path> shards = expand_shard_patterns(patterns, spec.root);
  std::optional<ShardInfo> info = read_shard_info(spec.root);
  if (!info && !shards.empty() && shards.front().parent_path() != spec.root)
    info = read_shard_info(shards.front().parent_path());

  // Indexes load in parallel (each a file read, or one scan of a tar's headers).
  std::vector<ShardIndex> indexes(shards.size());
  std::vector<std::string> errors(shards.size());
  tbb::parallel_for(size_t{0}, shards.size(), [&](size_t i) {
    try {
      indexes[i] = load_shard_index(shards[i]);
    } catch (const DataError& e) {
      errors[i] = e.what();
    }
  });

  FaultReport faults(spec.skip_bad_samples);
  bool labelled = false;
  int64_t max_label = -1;
  size_t total = 0, name_bytes = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (!errors[i].empty()) faults.add(shards[i].string(), "unreadable shard: " + errors[i]);
    if (!indexes[i].damage.empty()) faults.add(indexes[i].damage, "the rest of the shard is lost");
    for (const ShardFault& f : indexes[i].faults)
      faults.add((shards[i] / f.member).string(), f.reason);
    for (const ShardSample& s : indexes[i].samples) {
      labelled = labelled || s.label >= 0;
      if (s.label <= kMaxClassIndex) max_label = std::max(max_label, s.label);
      for (const auto& n : s.member_names)
        name_bytes += n.size();
    }
    total += indexes[i].samples.size();
  }
  if (info && info->splits.count(spec.split)) labelled = info->splits.at(spec.split).labelled;

  Catalog catalog("webdataset", spec.split, spec.root);
  catalog.set_class_names(labelled ? class_names_for(spec, info, max_label)
                                   : std::vector<std::string>{});
  if (info) catalog.set_object_names(info->object_names);
  const int64_t classes = catalog.num_classes();
  std::unordered_map<std::string, uint32_t> key_shard;  // first shard of each key
  key_shard.reserve(total);
  for (size_t i = 0; i < shards.size(); ++i) {
    const uint32_t id = catalog.add_shard(shards[i]);
    if (i == 0) catalog.reserve(total, name_bytes);
    for (const ShardSample& s : indexes[i].samples) {
      // Named only when at fault: building a path per sample costs at 1.8 M samples.
      const auto where = [&] { return (shards[i] / s.member_names[0]).string(); };
      if (labelled && s.label < 0) {
        faults.add(where(), "no .cls member (the split is labelled)");
        continue;
      }
      if (labelled && (s.label >= classes || s.label > kMaxClassIndex)) {
        faults.add(where(), fmt::format("label {} outside the {} classes", s.label, classes));
        continue;
      }
      if (auto [it, fresh] = key_shard.emplace(s.key, id); !fresh) {
        faults.add(where(), fmt::format("duplicate key '{}' (also in {})", s.key,
                                        shards[it->second].string()));
        continue;
      }
      const std::string_view names[4] = {s.member_names[0], s.member_names[1], s.member_names[2],
                                         s.member_names[3]};
      catalog.add_member_sample(id, labelled ? s.label : -1, names, s.members);
    }
  }
  faults.summary(fmt::format("webdataset {} ({})", spec.split, patterns));
  if (catalog.empty())
    throw DataError(fmt::format("data.shards '{}' under {}: no readable sample in {} shard(s)",
                                patterns, spec.root.string(), shards.size()));
  catalog.shrink_to_fit();
  return catalog;
}

}  // namespace scenery::data
