#include "data/shard_pattern.h"

#include <glob.h>

#include <fmt/core.h>

#include <algorithm>
#include <optional>

#include "core/error.h"

namespace scenery::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxNames = 1'000'000;

[[noreturn]] void bad(const std::string& pattern, const std::string& why) {
  throw ConfigError(fmt::format("data.shards: '{}': {}", pattern, why));
}

// Index of the brace closing the one at `open`, or npos.
size_t matching_brace(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i;
  }
  return std::string::npos;
}

// Splits at commas not inside braces.
std::vector<std::string> split_top_level(const std::string& s) {
  std::vector<std::string> parts(1);
  int depth = 0;
  for (char c : s) {
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c == ',' && depth == 0)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

// A numeric range "{lo..hi}" (zero-padded to lo's width when lo has leading
// zeros, as braceexpand does), or nullopt for a comma list.
struct BraceRange {
  long long lo = 0, hi = 0;
  size_t width = 0;
};

std::optional<BraceRange> range_of(const std::string& inner, const std::string& pattern) {
  const size_t dots = inner.find("..");
  if (dots == std::string::npos || inner.find(',') != std::string::npos) return std::nullopt;
  const std::string lo = inner.substr(0, dots), hi = inner.substr(dots + 2);
  if (!all_digits(lo) || !all_digits(hi))
    bad(pattern, fmt::format("range '{{{}}}' must be two decimal numbers", inner));
  BraceRange r{std::stoll(lo), std::stoll(hi), lo.size() > 1 && lo[0] == '0' ? lo.size() : 0};
  if (r.hi < r.lo) bad(pattern, fmt::format("range '{{{}}}' runs backwards", inner));
  if (static_cast<unsigned long long>(r.hi - r.lo) >= kMaxNames)
    bad(pattern, fmt::format("range '{{{}}}' names more than {} files", inner, kMaxNames));
  return r;
}

// The alternatives one brace group stands for.
std::vector<std::string> brace_alternatives(const std::string& inner, const std::string& pattern) {
  std::vector<std::string> out;
  if (const auto r = range_of(inner, pattern)) {
    for (long long v = r->lo; v <= r->hi; ++v)
      out.push_back(fmt::format("{:0{}}", v, r->width));
    return out;
  }
  for (const std::string& part : split_top_level(inner))
    for (std::string& e : expand_braces(part))
      out.push_back(std::move(e));
  return out;
}

bool has_glob(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

}  // namespace

size_t brace_expansion_size(const std::string& pattern) {
  const size_t open = pattern.find('{');
  if (open == std::string::npos) {
    if (pattern.find('}') != std::string::npos) bad(pattern, "'}' without '{'");
    return 1;
  }
  const size_t close = matching_brace(pattern, open);
  if (close == std::string::npos) bad(pattern, "'{' without its '}'");
  const std::string inner = pattern.substr(open + 1, close - open - 1);
  size_t middles = 0;
  if (const auto r = range_of(inner, pattern)) {
    middles = static_cast<size_t>(r->hi - r->lo) + 1;
  } else {
    for (const std::string& part : split_top_level(inner)) {
      middles += brace_expansion_size(part);
      if (middles > kMaxNames) bad(pattern, fmt::format("names more than {} files", kMaxNames));
    }
  }
  const size_t tails = brace_expansion_size(pattern.substr(close + 1));
  if (middles != 0 && tails > kMaxNames / middles)
    bad(pattern, fmt::format("names more than {} files", kMaxNames));
  return middles * tails;
}

std::vector<std::string> expand_braces(const std::string& pattern) {
  brace_expansion_size(pattern);  // refuses oversized expansions before building any
  const size_t open = pattern.find('{');
  if (open == std::string::npos) {
    if (pattern.find('}') != std::string::npos) bad(pattern, "'}' without '{'");
    return {pattern};
  }
  const size_t close = matching_brace(pattern, open);
  if (close == std::string::npos) bad(pattern, "'{' without its '}'");
  const std::string head = pattern.substr(0, open);
  const auto middles = brace_alternatives(pattern.substr(open + 1, close - open - 1), pattern);
  const auto tails = expand_braces(pattern.substr(close + 1));
  if (middles.size() * tails.size() > kMaxNames)
    bad(pattern, fmt::format("names more than {} files", kMaxNames));
  std::vector<std::string> out;
  out.reserve(middles.size() * tails.size());
  for (const auto& m : middles)
    for (const auto& t : tails)
      out.push_back(head + m + t);
  return out;
}

std::vector<fs::path> expand_shard_patterns(const std::string& patterns, const fs::path& root) {
  std::vector<fs::path> out;
  for (const std::string& item : split_top_level(patterns)) {
    if (item.empty()) bad(patterns, "empty pattern between commas");
    for (const std::string& name : expand_braces(item)) {
      const fs::path path = fs::path(name).is_absolute() ? fs::path(name) : root / name;
      if (!has_glob(name)) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec))
          throw DataError(fmt::format("data.shards: {}: no such shard", path.string()));
        out.push_back(path);
        continue;
      }
      glob_t g{};
      const int rc = ::glob(path.c_str(), GLOB_ERR, nullptr, &g);
      std::vector<fs::path> matches;
      for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i)
        matches.emplace_back(g.gl_pathv[i]);
      ::globfree(&g);
      if (matches.empty())
        throw DataError(fmt::format("data.shards: '{}' matches no file", path.string()));
      std::sort(matches.begin(), matches.end());
      out.insert(out.end(), matches.begin(), matches.end());
    }
  }
  return out;
}

}  // namespace scenery::data
