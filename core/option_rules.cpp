#include "core/option_rules.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace scenery {

std::string invalid_value_message(const std::string& where, const std::string& key,
                                  const std::string& value, const std::string& expected) {
  return fmt::format("{}invalid value '{}' for {}: expected {}", where.empty() ? "" : where + ": ",
                     value, key, expected);
}

void throw_invalid_value(const std::string& where, const std::string& key, const std::string& value,
                         const std::string& expected) {
  throw ConfigError(invalid_value_message(where, key, value, expected));
}

std::string one_of(const std::vector<std::string>& names) {
  return fmt::format("one of {}", fmt::join(names, ", "));
}

bool Bounds::unbounded() const {
  return std::isinf(min) && min < 0 && std::isinf(max) && max > 0;
}

bool Bounds::contains(double v) const {
  if (std::isnan(v)) return false;
  const bool above_min = min_exclusive ? v > min : v >= min;
  const bool below_max = max_exclusive ? v < max : v <= max;
  return above_min && below_max;
}

std::string Bounds::describe() const {
  const bool has_min = !(std::isinf(min) && min < 0);
  const bool has_max = !(std::isinf(max) && max > 0);
  if (has_min && has_max) {
    return fmt::format("in {}{}, {}{}", min_exclusive ? "(" : "[", min, max,
                       max_exclusive ? ")" : "]");
  }
  if (has_min) return fmt::format("{} {}", min_exclusive ? ">" : ">=", min);
  if (has_max) return fmt::format("{} {}", max_exclusive ? "<" : "<=", max);
  return "";
}

namespace {

std::string trim_blanks(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Whole-text conversions: trailing characters make the item invalid.
bool parse_number(const std::string& text, double& out) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  double v = 0;
  in >> v;
  if (in.fail()) return false;
  if (in.peek() == '/') {  // a fraction a/b
    in.get();
    double den = 0;
    in >> den;
    if (in.fail() || den == 0) return false;
    v /= den;
  }
  if (!in.eof() && in.peek() != std::char_traits<char>::eof()) return false;
  out = v;
  return std::isfinite(v);
}

bool parse_integer(const std::string& text, int64_t& out) {
  if (text.empty()) return false;
  size_t used = 0;
  try {
    out = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size();
}

template <class T>
bool parse_item(const std::string& text, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out = text;
    return !text.empty();
  } else if constexpr (std::is_same_v<T, double>) {
    return parse_number(text, out);
  } else {
    int64_t v = 0;
    if (!parse_integer(text, v)) return false;
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(v);
    return true;
  }
}

template <class T>
const char* item_noun() {
  if constexpr (std::is_same_v<T, std::string>) return "names";
  if constexpr (std::is_same_v<T, double>) return "numbers (a/b allowed)";
  return "integers";
}

}  // namespace

template <class T>
std::string describe_list(const ListRule& rule) {
  std::string count;
  if (rule.min_items == rule.max_items) {
    count = fmt::format("{} comma-separated {}", rule.min_items, item_noun<T>());
  } else if (rule.max_items == std::numeric_limits<size_t>::max()) {
    count = rule.min_items <= 1
                ? fmt::format("comma-separated {}", item_noun<T>())
                : fmt::format("{} or more comma-separated {}", rule.min_items, item_noun<T>());
  } else {
    count =
        fmt::format("{} to {} comma-separated {}", rule.min_items, rule.max_items, item_noun<T>());
  }
  if constexpr (!std::is_same_v<T, std::string>) {
    if (!rule.bounds.unbounded()) count += " " + rule.bounds.describe();
  }
  if (rule.order == ListOrder::kNonDecreasing) count += ", each >= the one before";
  if (rule.order == ListOrder::kIncreasing) count += ", in increasing order";
  return count;
}

template <class T>
std::vector<T> parse_list(const std::string& key, const std::string& text, const ListRule& rule) {
  auto refuse = [&] { throw_invalid_value("", key, text, describe_list<T>(rule)); };
  std::vector<T> items;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    const std::string item = trim_blanks(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    T value{};
    if (!parse_item(item, value)) refuse();
    if constexpr (!std::is_same_v<T, std::string>) {
      if (!rule.bounds.contains(static_cast<double>(value))) refuse();
      if (!items.empty()) {
        if (rule.order == ListOrder::kNonDecreasing && value < items.back()) refuse();
        if (rule.order == ListOrder::kIncreasing && !(items.back() < value)) refuse();
      }
    }
    items.push_back(std::move(value));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (items.size() < rule.min_items || items.size() > rule.max_items) refuse();
  return items;
}

template std::vector<double> parse_list<double>(const std::string&, const std::string&,
                                                const ListRule&);
template std::vector<int> parse_list<int>(const std::string&, const std::string&, const ListRule&);
template std::vector<int64_t> parse_list<int64_t>(const std::string&, const std::string&,
                                                  const ListRule&);
template std::vector<std::string> parse_list<std::string>(const std::string&, const std::string&,
                                                          const ListRule&);
template std::string describe_list<double>(const ListRule&);
template std::string describe_list<int>(const ListRule&);
template std::string describe_list<int64_t>(const ListRule&);
template std::string describe_list<std::string>(const ListRule&);

std::string canonical_tristate(const std::string& text) {
  std::string lower = trim_blanks(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "auto") return "auto";
  if (lower == "yes" || lower == "true" || lower == "1" || lower == "on") return "yes";
  if (lower == "no" || lower == "false" || lower == "0" || lower == "off") return "no";
  return "";
}

}  // namespace scenery
