// SHA-256 of a file, so an evaluation report names exactly which checkpoint
// produced it.
#pragma once

#include <filesystem>
#include <string>

namespace scenery {

// Lower-case hex digest. Throws IoError naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& file);
std::string sha256_hex(const void* data, size_t size);

}  // namespace scenery
