// fuzz_shard_index: a SHARD.tar.idx from bytes (an index file is as untrusted
// as the shard: copied, truncated, damaged). decode_shard_index must reject
// or accept without reading out of bounds or allocating from a damaged count;
// what it accepts must lie within the shard it claims to describe.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "data/shard_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scenery::data;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kShard = 1 << 20;
  const auto index = decode_shard_index(bytes, kShard, 0);
  if (!index) return 0;
  for (const ShardSample& s : index->samples)
    for (const MemberRange& m : s.members)
      if (m.offset > kShard || m.size > kShard - m.offset) std::abort();
  return 0;
}
