// SUN397 partitions and MIT Indoor 67 (layouts in catalog_readers.h). Both
// lists are small, so every listed file is checked here.
#include <fmt/core.h>

#include <algorithm>
#include <unordered_map>

#include "data/catalog_readers.h"
#include "data/catalog_text.h"

namespace scenery::data {
namespace fs = std::filesystem;

namespace {

void require_train_or_test(const CatalogSpec& spec) {
  if (spec.split != "train" && spec.split != "test") {
    throw ConfigError(fmt::format("data.split '{}' does not exist in {}; valid splits: train, test",
                                  spec.split, spec.dataset));
  }
}

std::unordered_map<std::string, int64_t> index_of(const std::vector<std::string>& names) {
  std::unordered_map<std::string, int64_t> index;
  for (size_t i = 0; i < names.size(); ++i)
    index.emplace(names[i], static_cast<int64_t>(i));
  return index;
}

}  // namespace

Catalog read_sun397(const CatalogSpec& spec) {
  require_train_or_test(spec);
  if (spec.partition < 1 || spec.partition > 10) {
    throw ConfigError(
        fmt::format("data.partition {} out of range: expected 1..10", spec.partition));
  }
  std::error_code ec;
  fs::path root = spec.root;
  if (!fs::exists(root / "ClassName.txt", ec) && fs::is_directory(root / "SUN397", ec)) {
    root /= "SUN397";
  }
  const fs::path class_file = root / "ClassName.txt";
  const std::string class_text = read_text_file(class_file, "category file");
  std::vector<std::string> paths, names;
  LineReader lines(class_text);
  std::string_view line;
  while (lines.next(line)) {
    line = trim_view(line);
    if (line.empty()) continue;
    const std::string_view name = category_display_name(line);
    if (name.empty() || line.find(' ') != std::string_view::npos) {
      throw_at(class_file, lines.line_number(),
               fmt::format("expected a class path like '/a/abbey', got '{}'", line));
    }
    paths.emplace_back(line);
    names.emplace_back(name);
  }
  if (names.empty())
    throw DataError(fmt::format("category file '{}' lists no class", class_file.string()));
  const auto label_of = index_of(paths);

  const std::string list_name =
      fmt::format("{}_{:02d}.txt", spec.split == "train" ? "Training" : "Testing", spec.partition);
  fs::path list = root / list_name;
  if (!fs::exists(list, ec) && fs::exists(root / "Partitions" / list_name, ec)) {
    list = root / "Partitions" / list_name;
  }
  const std::string text = read_text_file(list, "list file");
  Catalog catalog(spec.dataset, spec.split, root);
  catalog.set_class_names(std::move(names));
  catalog.reserve(count_lines(text), text.size());
  LineReader list_lines(text);
  while (list_lines.next(line)) {
    line = trim_view(line);
    if (line.empty()) continue;
    const size_t slash = line.rfind('/');
    if (line.front() != '/' || slash == 0 || slash == std::string_view::npos ||
        slash + 1 == line.size()) {
      throw_at(list, list_lines.line_number(),
               fmt::format("expected '/x/class/file.jpg', got '{}'", line));
    }
    const auto it = label_of.find(std::string(line.substr(0, slash)));
    if (it == label_of.end()) {
      throw_at(list, list_lines.line_number(),
               fmt::format("class '{}' is not in {}", line.substr(0, slash), class_file.string()));
    }
    const std::string_view relative = line.substr(1);
    require_file(root, relative, list, list_lines.line_number());
    catalog.add(relative, it->second);
  }
  if (catalog.empty())
    throw DataError(fmt::format("empty dataset: '{}' lists no image", list.string()));
  return catalog;
}

Catalog read_mit67(const CatalogSpec& spec) {
  require_train_or_test(spec);
  const fs::path images = spec.root / "Images";
  std::error_code ec;
  if (!fs::is_directory(images, ec)) {
    throw DataError(fmt::format("missing image folder '{}' (MIT67 classes are its sub-folders)",
                                images.string()));
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(images)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) throw DataError(fmt::format("'{}' holds no class folder", images.string()));
  const auto label_of = index_of(names);

  const fs::path list = spec.root / (spec.split == "train" ? "TrainImages.txt" : "TestImages.txt");
  const std::string text = read_text_file(list, "list file");
  Catalog catalog(spec.dataset, spec.split, images);
  catalog.set_class_names(std::move(names));
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    // Whole lines: file names contain spaces ("mall/shopping mall.jpg").
    if (trim_view(line).empty()) continue;
    const size_t slash = line.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == line.size()) {
      throw_at(list, lines.line_number(), fmt::format("expected '<class>/<file>', got '{}'", line));
    }
    const auto it = label_of.find(std::string(line.substr(0, slash)));
    if (it == label_of.end()) {
      throw_at(
          list, lines.line_number(),
          fmt::format("class '{}' is not a folder of {}", line.substr(0, slash), images.string()));
    }
    require_file(images, line, list, lines.line_number());
    catalog.add(line, it->second);
  }
  if (catalog.empty())
    throw DataError(fmt::format("empty dataset: '{}' lists no image", list.string()));
  return catalog;
}

}  // namespace scenery::data
