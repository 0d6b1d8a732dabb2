// data.shards: which tar files make up a sharded split.
//   "train-{000000..000127}.tar"     brace range (zero-padded like its first bound)
//   "train-{a,b}.tar"                brace alternatives (nested braces allowed)
//   "part1/*.tar,part2/*.tar"        comma-separated patterns, each a glob(3)
// Relative patterns are relative to `root`. Globs are sorted bytewise; brace
// expansions keep their written order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace scenery::data {

// Brace expansion alone (no globbing, no root). Throws ConfigError naming the
// pattern for unbalanced braces, a bad range or more than a million names.
std::vector<std::string> expand_braces(const std::string& pattern);

// How many names expand_braces(pattern) gives, without making them (same
// ConfigErrors; counts above the limit are refused before anything is built).
size_t brace_expansion_size(const std::string& pattern);

// The shard files `patterns` name. Throws ConfigError naming the pattern for a
// malformed one and DataError for a glob or name that matches no file.
std::vector<std::filesystem::path> expand_shard_patterns(const std::string& patterns,
                                                         const std::filesystem::path& root);

}  // namespace scenery::data
