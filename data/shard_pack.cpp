#include "data/shard_pack.h"

#include <tbb/parallel_for.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "data/decode.h"
#include "data/sample_bytes.h"
#include "data/sampler.h"
#include "data/shard_index.h"
#include "data/shard_info.h"
#include "data/tar_writer.h"

namespace scenery::data {

namespace fs = std::filesystem;

namespace {

// Samples read and checked together (in parallel), then written in order.
constexpr size_t kChunk = 256;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string base_key(const fs::path& image, const fs::path& root) {
  fs::path rel = image.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") rel = image.filename();
  std::string dir = rel.parent_path().generic_string();
  std::string stem = rel.filename().string();
  if (const size_t dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
  std::replace(stem.begin(), stem.end(), '.', '_');
  if (stem.empty()) stem = "_";
  return dir.empty() ? stem : dir + "/" + stem;
}

// A sample ready to be written: its members' names and bytes.
struct PackedSample {
  std::vector<std::pair<std::string, std::string>> members;
  std::string error;  // why it was left out
  size_t bytes() const {
    size_t n = 0;
    for (const auto& [name, data] : members)
      n += name.size() > 100 ? 1536 + data.size() : 512 + data.size();
    return n;
  }
};

std::string as_string(const std::vector<uint8_t>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

PackedSample read_and_check(const Sample& s, const std::string& key, int64_t max_pixels) {
  PackedSample p;
  try {
    auto image = read_sample_bytes(s, SampleFile::kImage, max_pixels);
    decode_rgb_bytes(image, s.image.string(), max_pixels);
    std::string ext = lower(s.image.extension().string());
    if (!ext.empty()) ext.erase(0, 1);
    if (ext.empty()) ext = "jpg";
    p.members.emplace_back(key + "." + ext, as_string(image));
    if (s.label >= 0) p.members.emplace_back(key + ".cls", std::to_string(s.label));
    if (!s.mask.empty()) {
      auto mask = read_sample_bytes(s, SampleFile::kMask, max_pixels);
      decode_label_png_bytes(mask, s.mask.string(), max_pixels);
      p.members.emplace_back(key + ".seg.png", as_string(mask));
    }
    const std::pair<SampleFile, const char*> maps[] = {
        {SampleFile::kSemanticClasses, ".top3_classes.png"},
        {SampleFile::kSemanticScores, ".top3_scores.png"}};
    for (const auto& [f, suffix] : maps) {
      if (s.file(f).empty()) continue;
      auto bytes = read_sample_bytes(s, f, max_pixels);
      decode_raw3_png_bytes(bytes, s.file(f).string(), max_pixels);
      p.members.emplace_back(key + suffix, as_string(bytes));
    }
  } catch (const DataError& e) {
    p.members.clear();
    p.error = e.what();
  }
  return p;
}

std::string shard_name(const std::string& prefix, int64_t k) {
  return fmt::format("{}-{:06d}.tar", prefix, k);
}

// PREFIX.pack.json: what the shards were made from; a rerun must match it.
std::string pack_record(const Catalog& c, const PackOptions& o, const std::string& prefix) {
  nlohmann::json j = {{"dataset", c.dataset()},
                      {"split", c.split()},
                      {"root", c.root().string()},
                      {"samples", c.size()},
                      {"prefix", prefix},
                      {"shard_bytes", o.shard_bytes},
                      {"shard_samples", o.shard_samples},
                      {"shuffle", o.shuffle},
                      {"seed", o.seed},
                      {"max_image_pixels", o.max_image_pixels}};
  return j.dump(1) + "\n";
}

void check_or_write_record(const fs::path& file, const std::string& record) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str() != record)
      throw ConfigError(fmt::format(
          "{} records another pack into this folder (other data or options):\n{}\nthis one "
          "would be:\n{}Pack into another --out (or another --prefix), or delete that pack's "
          "files first",
          file.string(), text.str(), record));
    return;
  }
  write_file_atomic(file, record);
}

// The key an existing, intact shard ends with, and its sample count
// (nullopt: absent, without a valid index, or not a clean shard).
std::optional<std::pair<std::string, int64_t>> finished_shard(const fs::path& shard) {
  std::error_code ec;
  if (!fs::is_regular_file(shard, ec)) return std::nullopt;
  const auto index = read_saved_shard_index(shard);
  if (!index || index->samples.empty() || !index->faults.empty() || !index->damage.empty())
    return std::nullopt;
  return std::pair{index->samples.back().key, static_cast<int64_t>(index->samples.size())};
}

class ShardWriter {
 public:
  ShardWriter(const PackOptions& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}

  bool full_for(const PackedSample& next) const {
    if (pending_.empty()) return false;
    if (o_.shard_samples > 0) return static_cast<int64_t>(pending_.size()) >= o_.shard_samples;
    return pending_bytes_ + next.bytes() > o_.shard_bytes;
  }
  void add(PackedSample&& s) {
    pending_bytes_ += s.bytes();
    pending_.push_back(std::move(s));
  }
  bool empty() const { return pending_.empty(); }

  // Writes the pending samples as shard `k` (temp file, rename, then index).
  int64_t flush(int64_t k) {
    const fs::path path = o_.out / shard_name(prefix_, k);
    std::vector<TarMember> written;
    replace_file_atomic(path, [&](const fs::path& temp) {
      written.clear();
      TarWriter tar(temp);
      for (const PackedSample& s : pending_)
        for (const auto& [name, data] : s.members)
          written.push_back(tar.add(name, data));
      tar.finish();
    });
    // The index is made from what was written; .cls members are read from memory.
    std::vector<std::string_view> data;
    for (const PackedSample& s : pending_)
      for (const auto& member : s.members)
        data.push_back(member.second);
    const ReadAt from_memory = [&](uint64_t offset, size_t size, char* out) -> size_t {
      const auto it =
          std::lower_bound(written.begin(), written.end(), offset,
                           [](const TarMember& m, uint64_t o) { return m.data_offset < o; });
      if (it == written.end() || it->data_offset != offset) return 0;
      const std::string_view d = data[static_cast<size_t>(it - written.begin())];
      const size_t n = std::min(size, d.size());
      std::copy_n(d.data(), n, out);
      return n;
    };
    const ShardIndex index = index_members(TarScan{written, true, ""}, from_memory, path.string());
    save_shard_index(path, index);
    const auto n = static_cast<int64_t>(pending_.size());
    pending_.clear();
    pending_bytes_ = 0;
    return n;
  }

 private:
  const PackOptions& o_;
  std::string prefix_;
  std::vector<PackedSample> pending_;
  size_t pending_bytes_ = 0;
};

void update_info(const Catalog& c, const PackOptions& o, const std::string& prefix,
                 const std::vector<std::string>& names, const std::vector<int64_t>& lengths) {
  ShardInfo info = read_shard_info(o.out).value_or(ShardInfo{});
  if (info.name.empty()) info.name = c.dataset();
  ShardSplitInfo split;
  split.filenames = names;
  split.shard_lengths = lengths;
  for (int64_t n : lengths)
    split.num_samples += n;
  split.labelled = false;
  for (size_t i = 0; i < c.size() && !split.labelled; ++i)
    split.labelled = c.label(i) >= 0;
  info.splits[prefix] = split;
  if (!c.class_names().empty()) info.class_names = c.class_names();
  if (!c.object_names().empty()) info.object_names = c.object_names();
  write_shard_info(o.out, info);
}

}  // namespace

std::vector<std::string> pack_keys(const Catalog& catalog) {
  std::vector<std::string> keys(catalog.size());
  std::unordered_set<std::string> used;
  used.reserve(catalog.size());
  for (size_t i = 0; i < catalog.size(); ++i) {
    const std::string base = base_key(catalog.at(i).image, catalog.root());
    std::string key = base;
    for (int n = 2; !used.insert(key).second; ++n)
      key = fmt::format("{}_{}", base, n);
    keys[i] = std::move(key);
  }
  return keys;
}

PackResult pack_shards(const Catalog& catalog, const PackOptions& o) {
  if (o.out.empty())
    throw ConfigError("pack: --out is not set: expected the folder for the shards");
  const std::string prefix = o.prefix.empty() ? catalog.split() : o.prefix;
  ensure_writable_directory(o.out);
  check_or_write_record(o.out / (prefix + ".pack.json"), pack_record(catalog, o, prefix));

  const auto n = static_cast<int64_t>(catalog.size());
  const std::vector<int64_t> order = epoch_order(n, o.seed, 0, o.shuffle);
  const std::vector<std::string> keys = pack_keys(catalog);

  PackResult r;
  std::vector<int64_t> lengths;
  // Shards an interrupted run finished: skip the samples they end with.
  int64_t position = 0;
  {
    std::unordered_map<std::string, int64_t> position_of;
    for (int64_t p = 0; p < n; ++p)
      position_of.emplace(keys[static_cast<size_t>(order[p])], p);
    while (auto done = finished_shard(o.out / shard_name(prefix, r.shards))) {
      const auto it = position_of.find(done->first);
      if (it == position_of.end() || it->second < position) break;
      position = it->second + 1;
      r.shard_names.push_back(shard_name(prefix, r.shards));
      lengths.push_back(done->second);
      r.samples += done->second;
      ++r.shards;
      ++r.shards_kept;
    }
    r.skipped = position - r.samples;  // left out by that run
    if (o.on_samples && position > 0) o.on_samples(position);
  }

  ShardWriter writer(o, prefix);
  std::vector<PackedSample> chunk;
  for (int64_t start = position; start < n; start += kChunk) {
    const int64_t end = std::min<int64_t>(n, start + kChunk);
    chunk.assign(static_cast<size_t>(end - start), PackedSample{});
    tbb::parallel_for(start, end, [&](int64_t p) {
      const auto i = static_cast<size_t>(order[p]);
      chunk[static_cast<size_t>(p - start)] =
          read_and_check(catalog.at(i), keys[i], o.max_image_pixels);
    });
    for (PackedSample& s : chunk) {
      if (!s.error.empty()) {
        if (!o.skip_bad) throw DataError(s.error + " (data.on_error = skip leaves it out)");
        log::warn("skipped {}", s.error);
        ++r.skipped;
        continue;
      }
      if (writer.full_for(s)) {
        r.shard_names.push_back(shard_name(prefix, r.shards));
        lengths.push_back(writer.flush(r.shards++));
        r.samples += lengths.back();
      }
      writer.add(std::move(s));
    }
    if (o.on_samples) o.on_samples(end - start);
  }
  if (!writer.empty()) {
    r.shard_names.push_back(shard_name(prefix, r.shards));
    lengths.push_back(writer.flush(r.shards++));
    r.samples += lengths.back();
  }
  if (r.samples == 0)
    throw DataError(
        fmt::format("{} {}: no readable sample to pack", catalog.dataset(), catalog.split()));
  update_info(catalog, o, prefix, r.shard_names, lengths);
  return r;
}

}  // namespace scenery::data
