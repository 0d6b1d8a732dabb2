// What an option value must be, declared once next to the option and checked by
// the config system (core/config.h) wherever the value comes from: a number's
// bounds, a string's choices, a comma list's items, an auto/yes/no switch.
//
// Every refused value gets one message shape, whoever refuses it:
//   WHERE: invalid value 'VALUE' for KEY: expected WHAT
// (WHERE is "command line" or FILE:LINE, absent when a library converts a
// value that did not come from a Config).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace scenery {

// The one message shape of a refused option value (see above).
std::string invalid_value_message(const std::string& where, const std::string& key,
                                  const std::string& value, const std::string& expected);
[[noreturn]] void throw_invalid_value(const std::string& where, const std::string& key,
                                      const std::string& value, const std::string& expected);

// "one of a, b, c"
std::string one_of(const std::vector<std::string>& names);

// Closed or half-open bounds of a number (or of each number of a list).
struct Bounds {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false, max_exclusive = false;

  static Bounds at_least(double v) { return {v}; }
  static Bounds above(double v) { return {v, std::numeric_limits<double>::infinity(), true}; }
  static Bounds within(double lo, double hi) { return {lo, hi}; }  // [lo, hi]
  static Bounds from_up_to_excluding(double lo, double hi) {       // [lo, hi)
    return {lo, hi, false, true};
  }

  bool unbounded() const;
  bool contains(double v) const;
  std::string describe() const;  // ">= 1", "> 0", "in [0, 1)", "" when unbounded
};

enum class ListOrder { kAny, kNonDecreasing, kIncreasing };

// A comma-separated list option: how many items, and for numbers their bounds
// and order. Number items may be written as fractions a/b (3/4,4/3).
struct ListRule {
  size_t min_items = 1;
  size_t max_items = std::numeric_limits<size_t>::max();
  Bounds bounds;
  ListOrder order = ListOrder::kAny;

  static ListRule exactly(size_t n, Bounds b = {}) { return {n, n, b}; }
  // A 'lo,hi' range within `b`.
  static ListRule range(Bounds b) { return {2, 2, b, ListOrder::kNonDecreasing}; }
  static ListRule any_length(Bounds b = {}, ListOrder order = ListOrder::kAny) {
    return {1, std::numeric_limits<size_t>::max(), b, order};
  }
};

// The items of a comma list, each trimmed; ConfigError (the shape above, no
// WHERE) when an item or the list breaks `rule`. T: double, int, int64_t,
// std::string.
template <class T>
std::vector<T> parse_list(const std::string& key, const std::string& text, const ListRule& rule);
// What a list of T under `rule` must look like, for messages and --help.
template <class T>
std::string describe_list(const ListRule& rule);

// auto / yes / no: a boolean whose default is decided by the program. Accepts
// every spelling a boolean accepts (true/false, yes/no, 1/0, on/off).
enum class Tristate { kAuto, kYes, kNo };
inline bool resolve(Tristate t, bool automatic) {
  return t == Tristate::kAuto ? automatic : t == Tristate::kYes;
}
// The canonical text ("auto", "yes", "no") of a tristate or boolean spelling;
// empty when `text` is neither.
std::string canonical_tristate(const std::string& text);

// The one declaration of an option's choices when a library maps them to its
// own enum: the Config registers names(), the library converts with at().
template <class E>
class Choices {
 public:
  Choices(std::initializer_list<std::pair<std::string, E>> items) : items_(items) {}

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& item : items_)
      out.push_back(item.first);
    return out;
  }
  // The value named `name`; ConfigError in the one shape otherwise.
  E at(const std::string& key, const std::string& name) const {
    for (const auto& item : items_)
      if (item.first == name) return item.second;
    throw_invalid_value("", key, name, one_of(names()));
  }
  const std::string& name_of(E value) const {
    for (const auto& item : items_)
      if (item.second == value) return item.first;
    throw std::logic_error("Choices::name_of: a value without a name");
  }

 private:
  std::vector<std::pair<std::string, E>> items_;
};

}  // namespace scenery
