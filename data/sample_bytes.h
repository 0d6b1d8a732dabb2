// The bytes of one file of a sample, wherever it lies: a file of its own, or a
// member of a tar shard (read with one pread from a process-wide cache of open
// shards, so an epoch over shards opens each shard once per process, not one
// file per sample).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/catalog.h"

namespace scenery::data {

// Reads file `f` of `sample`. Throws DataError naming the file (or shard and
// member) for a missing, empty, unreadable or truncated one, and for one
// larger than any image within `max_pixels` could be (0 = no limit).
std::vector<uint8_t> read_sample_bytes(const Sample& sample, SampleFile f, int64_t max_pixels);

// Reads a whole file (the per-file case above).
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& file, int64_t max_pixels);

// open() calls made on shards by this process so far (benchmarks count them per epoch).
uint64_t shard_open_calls();

}  // namespace scenery::data
