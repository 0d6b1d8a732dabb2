// What a WebDataset shard holds, sample by sample, and the index file that
// keeps it beside the shard so the next run reads it instead of the tar.
//
// WebDataset convention (as webdataset's tar_file_expander / group_by_keys):
// member "DIR/KEY.EXT" belongs to sample "DIR/KEY" (the base name up to its
// first dot), EXT (lower-cased) says what it is; a sample's members are
// adjacent. Scenery reads:
//   image   jpg jpeg png webp bmp ppm pgm pnm tif tiff   (exactly one)
//   label   cls             decimal class index
//   mask    seg.png         ADE20K annotation (8-bit, 0 = other)
//   maps    top3_classes.png / top3_scores.png   precomputed semantic maps
// Other members (json, txt, ...) are ignored. A sample that breaks the
// convention — no image, two images, a zero-byte member, a .cls that is not
// a number, a key met again after other samples, a member without an
// extension — is a fault naming the shard and member: the catalog skips it
// (data.on_error = skip) or stops (fail).
//
// Index file PATH.idx: binary, little-endian, ending in a CRC-32 of its bytes;
// valid only for the shard's size and modification time it records. Untrusted
// like any input: every length is checked, a damaged or stale one is rebuilt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/tar_reader.h"

namespace scenery::data {

struct ShardSample {
  std::string key;
  int64_t label = -1;           // -1: no .cls member
  std::string member_names[4];  // in SampleFile order; empty = absent
  MemberRange members[4];
};

struct ShardFault {
  std::string member;  // the member (or key) at fault
  std::string reason;
};

struct ShardIndex {
  std::vector<ShardSample> samples;
  std::vector<ShardFault> faults;  // samples left out, and why
  std::string damage;              // the tar's own damage (truncated, bad header), or empty
  bool has_end_marker = true;
};

// WebDataset's split of a member name into key and (lower-cased) extension;
// nullopt when the base name has no dot.
std::optional<std::pair<std::string, std::string>> split_member_name(const std::string& name);

// Groups a scanned shard's members into samples; reads each .cls through `read`.
ShardIndex index_members(const TarScan& scan, const ReadAt& read, const std::string& shard_name);

// Scans `shard` and groups it (the tar is read header by header, plus .cls members).
ShardIndex build_shard_index(const std::filesystem::path& shard);

// The index file's bytes for `index` of a shard of `shard_size` bytes and
// modification time `mtime_ns`, and back (nullopt for anything that does not
// parse exactly, or is of another size / time).
std::string encode_shard_index(const ShardIndex& index, uint64_t shard_size, int64_t mtime_ns);
std::optional<ShardIndex> decode_shard_index(const std::string& bytes, uint64_t shard_size,
                                             int64_t mtime_ns);

// PATH.idx when it matches the shard, else a fresh scan, then kept as
// PATH.idx when the folder is writable (a read-only one keeps it in memory).
// Throws DataError naming the shard if it cannot be opened.
ShardIndex load_shard_index(const std::filesystem::path& shard);

// PATH.idx alone: nullopt when absent, damaged or not made for the shard as it is now.
std::optional<ShardIndex> read_saved_shard_index(const std::filesystem::path& shard);

// Writes PATH.idx for `shard` (atomically). Throws IoError.
void save_shard_index(const std::filesystem::path& shard, const ShardIndex& index);

std::filesystem::path shard_index_path(const std::filesystem::path& shard);

}  // namespace scenery::data
