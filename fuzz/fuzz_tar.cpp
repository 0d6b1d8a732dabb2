// fuzz_tar: a WebDataset shard from bytes: the tar header walk (ustar, pax,
// GNU long names, base-256 sizes) and the grouping of members into samples,
// which reads .cls members back. Invariants checked: every member found lies
// inside the input, and the index of the result encodes and decodes to itself.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "data/shard_index.h"
#include "data/tar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scenery::data;
  const ReadAt read = [&](uint64_t offset, size_t n, char* out) -> size_t {
    if (offset >= size) return 0;
    const size_t k = std::min<uint64_t>(n, size - offset);
    std::memcpy(out, data + offset, k);
    return k;
  };
  const TarScan scan = scan_tar(read, size, "fuzz.tar");
  for (const TarMember& m : scan.members)
    if (m.data_offset > size || m.size > size - m.data_offset || m.header_offset >= m.data_offset)
      std::abort();
  const ShardIndex index = index_members(scan, read, "fuzz.tar");
  const std::string bytes = encode_shard_index(index, size, 7);
  const auto back = decode_shard_index(bytes, size, 7);
  if (!back || back->samples.size() != index.samples.size() ||
      back->faults.size() != index.faults.size())
    std::abort();
  return 0;
}
