#include "core/json_writer.h"

#include <fmt/core.h>

#include <cmath>

namespace scenery {

std::string json_escape(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void JsonWriter::key(std::string_view k) {
  if (!first_.empty()) {
    if (!first_.back()) out_ += ",";
    first_.back() = false;
    if (pretty_) out_ += "\n" + std::string(2 * first_.size(), ' ');
  }
  if (!k.empty()) out_ += json_escape(k) + (pretty_ ? ": " : ":");
}

void JsonWriter::open(char bracket, std::string_view k) {
  key(k);
  out_ += bracket;
  first_.push_back(true);
}

void JsonWriter::close(char bracket) {
  const bool empty = first_.back();
  first_.pop_back();
  if (!empty && pretty_) out_ += "\n" + std::string(2 * first_.size(), ' ');
  out_ += bracket;
}

JsonWriter& JsonWriter::begin_object(std::string_view k) {
  return open('{', k), *this;
}
JsonWriter& JsonWriter::end_object() {
  return close('}'), *this;
}
JsonWriter& JsonWriter::begin_array(std::string_view k) {
  return open('[', k), *this;
}
JsonWriter& JsonWriter::end_array() {
  return close(']'), *this;
}

JsonWriter& JsonWriter::value(std::string_view k, std::string_view v) {
  key(k);
  out_ += json_escape(v);
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view k, double v) {
  key(k);
  out_ += std::isfinite(v) ? fmt::format("{}", v) : "null";
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view k, int64_t v) {
  key(k);
  out_ += fmt::format("{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view k, bool v) {
  key(k);
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view k, const std::vector<double>& v) {
  begin_array(k);
  for (double x : v)
    element(x);
  return end_array();
}

}  // namespace scenery
