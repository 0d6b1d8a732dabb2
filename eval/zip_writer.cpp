#include "eval/zip_writer.h"

#include <fmt/core.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "core/atomic_file.h"
#include "core/error.h"

namespace scenery::eval {
namespace {

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return table;
}

void put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  const auto& t = crc_table();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = t[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void write_zip(const std::filesystem::path& archive,
               const std::vector<std::pair<std::string, std::filesystem::path>>& files) {
  std::string out, central;
  for (const auto& [name, path] : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw IoError(
          fmt::format("cannot read '{}' to add it to '{}'", path.string(), archive.string()));
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (out.size() + bytes.size() > 0xFFFFFFF0u) {
      throw IoError(fmt::format("'{}' would exceed 4 GiB, which needs zip64", archive.string()));
    }
    const uint32_t crc = crc32(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t size = static_cast<uint32_t>(bytes.size());
    constexpr uint32_t kDosDate = (2016 - 1980) << 9 | 1 << 5 | 1;  // fixed: reproducible archives
    // Local file header.
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, kDosDate);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<uint32_t>(name.size()));
    put16(out, 0);
    out += name;
    out += bytes;
    // Central directory entry.
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<uint32_t>(name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, offset);
    central += name;
  }
  const uint32_t central_offset = static_cast<uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(files.size()));
  put16(out, static_cast<uint32_t>(files.size()));
  put32(out, static_cast<uint32_t>(central.size()));
  put32(out, central_offset);
  put16(out, 0);
  write_file_atomic(archive, out);
}

}  // namespace scenery::eval
