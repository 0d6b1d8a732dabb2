// fuzz_shard_pattern: data.shards brace expansion from a user's text: ranges,
// alternatives, nesting. Must throw ConfigError or expand within its limit.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "data/shard_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;  // patterns are short; long ones only multiply the same paths
  try {
    scenery::data::expand_braces(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const scenery::ConfigError&) {
  }
  return 0;
}
