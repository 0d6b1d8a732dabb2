#include "models/npy.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "core/error.h"

namespace scenery::models {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (102,
// 512), }
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& file) {
  const std::regex pattern("['\"]" + key + "['\"]\\s*:\\s*('[^']*'|\"[^\"]*\"|\\([^)]*\\)|\\w+)");
  std::smatch m;
  if (!std::regex_search(header, m, pattern)) {
    throw CheckpointError(
        fmt::format("{}: the .npy header has no '{}' entry (header: {})", file, key, header));
  }
  return m[1].str();
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& file) {
  std::vector<int64_t> shape;
  const std::regex number("\\d+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number);
       it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  const std::string rest = std::regex_replace(text, std::regex("[\\d\\s,()]"), "");
  if (!rest.empty())
    throw CheckpointError(fmt::format("{}: .npy shape '{}' is not a tuple of sizes", file, text));
  return shape;
}

}  // namespace

torch::Tensor read_npy(const fs::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: cannot open the .npy file", file));
  char preamble[kMagicSize + 2];
  if (!in.read(preamble, sizeof preamble) || std::memcmp(preamble, kMagic, kMagicSize) != 0)
    throw CheckpointError(fmt::format("{}: not a .npy file (no \\x93NUMPY magic)", file));
  const int major = static_cast<unsigned char>(preamble[kMagicSize]);
  if (major < 1 || major > 3) {
    throw CheckpointError(
        fmt::format("{}: .npy format version {} is unknown (expected 1, 2 or 3)", file, major));
  }
  uint32_t header_size = 0;
  unsigned char size_bytes[4] = {0, 0, 0, 0};
  const int width = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char*>(size_bytes), width))
    throw CheckpointError(fmt::format("{}: the .npy header is truncated", file));
  for (int i = width - 1; i >= 0; --i)
    header_size = header_size << 8 | size_bytes[i];
  std::string header(header_size, '\0');
  if (!in.read(header.data(), header_size))
    throw CheckpointError(fmt::format("{}: the .npy header is truncated", file));

  std::string descr = header_value(header, "descr", file);
  descr = descr.substr(1, descr.size() - 2);
  if (header_value(header, "fortran_order", file) != "False") {
    throw CheckpointError(fmt::format(
        "{}: the array is stored in Fortran order; save it in C order (np.ascontiguousarray)",
        file));
  }
  torch::ScalarType dtype;
  if (descr == "<f4") {
    dtype = torch::kFloat32;
  } else if (descr == "<f8") {
    dtype = torch::kFloat64;
  } else {
    throw CheckpointError(fmt::format(
        "{}: .npy dtype '{}' is not supported (expected little-endian float32 '<f4' or float64 "
        "'<f8')",
        file, descr));
  }
  const auto shape = parse_shape(header_value(header, "shape", file), file);
  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  const auto bytes = static_cast<std::streamsize>(tensor.numel() * tensor.element_size());
  if (!in.read(static_cast<char*>(tensor.data_ptr()), bytes)) {
    throw CheckpointError(fmt::format("{}: truncated: shape ({}) needs {} bytes of data, got {}",
                                      file, fmt::join(shape, ", "), bytes, in.gcount()));
  }
  return tensor;
}

}  // namespace scenery::models
