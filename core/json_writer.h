// A small streaming JSON writer: results files are written by us and read by
// people's scripts, so keys keep their insertion order and numbers are written
// with full precision (shortest round-trip form; NaN becomes null).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scenery {

class JsonWriter {
 public:
  // pretty: one member per line, indented; otherwise all on one line (JSON lines).
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object(std::string_view key = {});
  JsonWriter& end_object();
  JsonWriter& begin_array(std::string_view key = {});
  JsonWriter& end_array();

  JsonWriter& value(std::string_view key, std::string_view v);
  JsonWriter& value(std::string_view key, const char* v) { return value(key, std::string_view(v)); }
  JsonWriter& value(std::string_view key, double v);
  JsonWriter& value(std::string_view key, int64_t v);
  JsonWriter& value(std::string_view key, int v) { return value(key, int64_t{v}); }
  JsonWriter& value(std::string_view key, bool v);
  JsonWriter& value(std::string_view key, const std::vector<double>& v);
  // Array elements: key empty.
  JsonWriter& element(double v) { return value({}, v); }
  JsonWriter& element(std::string_view v) { return value({}, v); }

  std::string str() const { return out_ + "\n"; }

 private:
  void key(std::string_view k);
  void open(char bracket, std::string_view k);
  void close(char bracket);

  std::string out_;
  bool pretty_ = true;
  std::vector<bool> first_;  // per open container: no element written yet
};

std::string json_escape(std::string_view s);

}  // namespace scenery
