// Helpers for the catalog/synth/check tests: generate a small synthetic
// dataset and capture the message of an expected error.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/catalog_readers.h"
#include "data/synth.h"

namespace scenery::data::testing {

inline SynthResult make_synth(const std::string& layout, const std::filesystem::path& out,
                              int classes, int per_class, uint64_t seed = 7, int size = 64) {
  SynthOptions o;
  o.layout = layout;
  o.out = out;
  o.classes = classes;
  o.per_class = per_class;
  o.seed = seed;
  o.size = size;
  return write_synthetic_dataset(o);
}

inline CatalogSpec spec(const std::string& dataset, const std::filesystem::path& root,
                        const std::string& split = "train") {
  CatalogSpec s;
  s.dataset = dataset;
  s.root = root;
  s.split = split;
  return s;
}

// The message of the DataError that opening `s` throws ("" and a test failure if none).
inline std::string data_error(const CatalogSpec& s) {
  try {
    open_catalog(s);
  } catch (const DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DataError, got: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected DataError opening " << s.dataset << " at " << s.root;
  return "";
}

// Lines of a text file as an independent reader sees them (std::getline).
inline std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

inline bool ends_with_newline(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return !s.empty() && s.back() == '\n';
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

}  // namespace scenery::data::testing
