// Runs the independent Python reader (read_events.py) over a folder and
// returns its lines split into fields: what the observe and train tests
// compare with the numbers they wrote.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace scenery::observe::testing {

using Fields = std::vector<std::string>;

inline Fields split_tabs(const std::string& line) {
  Fields out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, '\t'))
    out.push_back(cell);
  return out;
}

// Every line of the reader's output; fails the test when the reader refuses a byte.
inline std::vector<Fields> read_events(const std::filesystem::path& dir) {
  const auto r = scenery::testing::run_command("/usr/bin/python3 " SCENERY_SOURCE_DIR
                                               "/tests/observe/read_events.py '" +
                                               dir.string() + "' 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<Fields> lines;
  std::stringstream in(r.output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(split_tabs(line));
  return lines;
}

// The lines of one kind ("scalar", "image", ...), optionally of one tag.
inline std::vector<Fields> of_kind(const std::vector<Fields>& lines, const std::string& kind,
                                   const std::string& tag = "") {
  std::vector<Fields> out;
  for (const auto& f : lines)
    if (!f.empty() && f[0] == kind && (tag.empty() || (f.size() > 2 && f[2] == tag)))
      out.push_back(f);
  return out;
}

}  // namespace scenery::observe::testing
