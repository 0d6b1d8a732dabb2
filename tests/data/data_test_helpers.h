// Helpers for the catalog/synth/check tests: generate a small synthetic
// dataset and capture the message of an expected error.
#pragma once

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/catalog_readers.h"
#include "data/synth.h"
#include "support/test_support.h"

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

// Decompression bombs: a valid 16x16 image whose header is rewritten to
// declare `width` x `height` (a few hundred bytes that a decoder trusting the
// header would allocate width * height * 3 bytes for).
inline std::vector<uint8_t> encoded_noise(const std::string& ext) {
  cv::Mat noise(16, 16, CV_8UC3);
  cv::randu(noise, 0, 255);
  std::vector<uint8_t> bytes;
  cv::imencode(ext, noise, bytes);
  return bytes;
}
inline void put_be(std::vector<uint8_t>& b, size_t at, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
}
inline std::vector<uint8_t> jpeg_bomb(uint32_t width, uint32_t height) {
  std::vector<uint8_t> b = encoded_noise(".jpg");
  for (size_t i = 2; i + 9 < b.size(); ++i) {
    if (b[i] == 0xFF && b[i + 1] == 0xC0) {  // baseline frame header: height, then width
      put_be(b, i + 5, height, 2);
      put_be(b, i + 7, width, 2);
      return b;
    }
  }
  ADD_FAILURE() << "no SOF0 marker in OpenCV's JPEG";
  return b;
}
inline uint32_t png_crc(const uint8_t* data, size_t n) {  // the PNG specification's CRC-32
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= data[i];
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}
inline std::vector<uint8_t> png_bomb(uint32_t width, uint32_t height) {
  std::vector<uint8_t> b = encoded_noise(".png");
  put_be(b, 16, width, 4);
  put_be(b, 20, height, 4);
  put_be(b, 29, png_crc(b.data() + 12, 17), 4);  // IHDR's CRC stays valid
  return b;
}
inline void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace scenery::data::testing
