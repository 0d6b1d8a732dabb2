// Places365-Standard, its easyformat variant and Places205 (layouts in
// catalog_readers.h).
#include <fmt/core.h>

#include <algorithm>

#include "data/catalog_readers.h"
#include "data/catalog_text.h"

namespace scenery::data {
namespace fs = std::filesystem;

namespace {

// "/a/airfield 0" lines. The index must equal the position (a shuffled file
// would silently relabel every image); Places205 files may start with a header.
std::vector<std::string> read_category_index(const fs::path& file, bool allow_header) {
  const std::string text = read_text_file(file, "category file");
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string> names;
  while (lines.next(line)) {
    if (trim_view(line).empty()) continue;
    std::string_view path, index_text;
    int64_t index = -1;
    const bool split = split_last_token(line, path, index_text);
    if (!split || !parse_index(index_text, index)) {
      if (allow_header && names.empty() && lines.line_number() == 1) continue;
      throw_at(file, lines.line_number(),
               fmt::format("expected '/x/category <index>', got '{}'", line));
    }
    const std::string_view name = category_display_name(path);
    if (name.empty()) {
      throw_at(file, lines.line_number(),
               fmt::format("expected a category path like '/a/airfield', got '{}'", path));
    }
    if (index != static_cast<int64_t>(names.size())) {
      throw_at(file, lines.line_number(),
               fmt::format("expected index {} (categories are listed in index order), got {}",
                           names.size(), index));
    }
    names.emplace_back(name);
  }
  if (names.empty())
    throw DataError(fmt::format("category file '{}' lists no class", file.string()));
  return names;
}

// "<path> <label>" lines (label optional when `labelled` is false), added to
// `catalog` with the leading '/' of the path dropped.
void read_labelled_list(Catalog& catalog, const fs::path& file, bool labelled) {
  const std::string text = read_text_file(file, "list file");
  const int64_t classes = catalog.num_classes();
  catalog.reserve(count_lines(text), text.size());
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view path, label_text;
    int64_t label = -1;
    if (!split_last_token(line, path, label_text)) {
      path = trim_view(line);
      if (path.empty()) continue;
      if (labelled) {
        throw_at(file, lines.line_number(),
                 fmt::format("expected '<path> <label>', got '{}'", line));
      }
    } else if (!parse_index(label_text, label)) {
      if (labelled) {
        throw_at(file, lines.line_number(),
                 fmt::format("expected '<path> <label>' with an integer label, got '{}'", line));
      }
      path = trim_view(line);  // an unlabelled list: the whole line is the file name
      label = -1;
    }
    if (label >= classes) {
      throw_at(file, lines.line_number(),
               fmt::format("label {} out of range: expected 0..{} ({} classes)", label, classes - 1,
                           classes));
    }
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    catalog.add(path, label);
  }
  if (catalog.empty())
    throw DataError(fmt::format("empty dataset: '{}' lists no image", file.string()));
  catalog.shrink_to_fit();
}

void require_split(const CatalogSpec& spec, std::initializer_list<const char*> splits) {
  for (const char* s : splits) {
    if (spec.split == s) return;
  }
  std::string valid;
  for (const char* s : splits)
    valid += (valid.empty() ? "" : ", ") + std::string(s);
  throw ConfigError(fmt::format("data.split '{}' does not exist in {}; valid splits: {}",
                                spec.split, spec.dataset, valid));
}

}  // namespace

Catalog read_places365(const CatalogSpec& spec) {
  require_split(spec, {"train", "val", "test"});
  const std::string suffix = spec.large ? "_large" : "_256";
  std::string list, folder;
  if (spec.split == "train") {
    list = "places365_train_standard.txt", folder = "data" + suffix;
  } else if (spec.split == "val") {
    list = "places365_val.txt", folder = "val" + suffix;
  } else {
    list = "places365_test.txt", folder = "test" + suffix;
  }
  // Paths are stored relative to the image folder: 9 bytes less per sample.
  Catalog catalog(spec.dataset, spec.split, spec.root / folder);
  catalog.set_class_names(read_category_index(spec.root / "categories_places365.txt", false));
  read_labelled_list(catalog, spec.root / list, spec.split != "test");
  return catalog;
}

Catalog read_places365_easy(const CatalogSpec& spec) {
  require_split(spec, {"train", "val"});
  std::error_code ec;
  const fs::path base = fs::is_directory(spec.root / "places365_standard", ec)
                            ? spec.root / "places365_standard"
                            : spec.root;
  Catalog catalog(spec.dataset, spec.split, base);
  std::vector<std::string> names = add_class_folders(catalog, base / spec.split);
  for (auto& n : names)
    std::replace(n.begin(), n.end(), '-', '/');
  catalog.set_class_names(std::move(names));
  if (catalog.empty()) {
    throw DataError(
        fmt::format("empty dataset: no image under '{}'", (base / spec.split).string()));
  }
  return catalog;
}

Catalog read_places205(const CatalogSpec& spec) {
  require_split(spec, {"train", "val"});
  std::error_code ec;
  const fs::path split_dir = spec.root / "trainvalsplit_places205";
  fs::path categories = spec.root / "categoryIndex_places205.csv";
  if (!fs::exists(categories, ec) && fs::exists(split_dir / categories.filename(), ec)) {
    categories = split_dir / categories.filename();
  }
  const fs::path images =
      fs::is_directory(spec.root / "images256", ec) ? spec.root / "images256" : spec.root;
  Catalog catalog(spec.dataset, spec.split, images);
  catalog.set_class_names(read_category_index(categories, true));
  read_labelled_list(catalog, split_dir / (spec.split + "_places205.csv"), true);
  return catalog;
}

}  // namespace scenery::data
