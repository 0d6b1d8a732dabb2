// One CSV field, quoted only when it must be (RFC 4180: a comma, a quote or a
// newline inside; quotes doubled), for every CSV the tools write.
#pragma once

#include <string>

namespace scenery {

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace scenery
