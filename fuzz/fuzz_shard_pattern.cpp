// fuzz_shard_pattern: data.shards brace expansion from a user's text: ranges,
// alternatives, nesting. Must throw ConfigError or expand to exactly as many
// names as brace_expansion_size counts (which refuses oversized patterns
// before building anything); large expansions are only counted here.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "data/shard_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pattern(reinterpret_cast<const char*>(data), size);
  try {
    const size_t n = scenery::data::brace_expansion_size(pattern);
    if (n <= 4096 && scenery::data::expand_braces(pattern).size() != n) std::abort();
  } catch (const scenery::ConfigError&) {
  }
  return 0;
}
