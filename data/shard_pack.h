// scenery-data pack: any catalog -> WebDataset shards PREFIX-000000.tar, ...
// with a PATH.idx beside each and _info.json beside them all.
//
// Per sample: KEY.<ext> (the image's original bytes, never re-encoded), KEY.cls
// (decimal label, when labelled), KEY.seg.png (ADE20K mask) and
// KEY.top3_classes.png / KEY.top3_scores.png (precomputed semantic maps).
// KEY = the image path relative to the dataset root without its extension
// (dots of the base name turned into '_', as WebDataset splits keys at the
// first dot; a clash gets '_2', '_3', ... in catalog order).
//
// Deterministic: the same catalog and options give the same bytes (tar
// headers carry no time or owner). Each shard is written to a temp file and
// renamed, then its index; an interrupted pack rerun with the same options
// keeps the finished shards (PREFIX.pack.json records the options and refuses
// other ones). Damaged inputs are decoded first and skipped with a warning
// naming the file and reason (skip_bad), or stop the pack (DataError).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/catalog.h"

namespace scenery::data {

struct PackOptions {
  std::filesystem::path out;
  std::string prefix;                          // default: the catalog's split
  uint64_t shard_bytes = uint64_t{256} << 20;  // a shard closes before exceeding this...
  int64_t shard_samples = 0;                   // ...or at this many samples when > 0
  bool shuffle = false;                        // a seeded permutation before sharding
  uint64_t seed = 0;
  bool skip_bad = true;
  int64_t max_image_pixels = 0;
  std::function<void(int64_t)> on_samples;  // progress: samples handled
};

struct PackResult {
  int64_t samples = 0;  // written (or kept from an earlier run)
  int64_t skipped = 0;  // damaged inputs left out
  int64_t shards = 0;
  int64_t shards_kept = 0;  // finished by an interrupted earlier run
  std::vector<std::string> shard_names;
};

// The WebDataset key of every catalog sample (unique, see above).
std::vector<std::string> pack_keys(const Catalog& catalog);

PackResult pack_shards(const Catalog& catalog, const PackOptions& options);

}  // namespace scenery::data
