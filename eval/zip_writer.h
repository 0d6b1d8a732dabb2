// A minimal writer of "stored" (uncompressed) zip archives. PNG masks are
// already deflate-compressed, so storing them loses nothing, and the format is
// what the ADE20K challenge server unpacks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace scenery::eval {

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

// Writes `files` (archive name -> bytes read from the path) into `archive`
// atomically. Names are stored as given (use forward slashes).
void write_zip(const std::filesystem::path& archive,
               const std::vector<std::pair<std::string, std::filesystem::path>>& files);

}  // namespace scenery::eval
