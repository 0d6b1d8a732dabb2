// The user's own data: a class-per-folder tree or a "<path> <label>" list
// (layouts in catalog_readers.h).
#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "data/catalog_readers.h"
#include "data/catalog_text.h"

namespace scenery::data {
namespace fs = std::filesystem;

namespace {

// Lists bigger than this are not checked file by file at catalog time (that
// is what `scenery-data check` is for).
constexpr size_t kVerifyLimit = 100000;

}  // namespace

Catalog read_image_folder(const CatalogSpec& spec) {
  std::error_code ec;
  const fs::path dir =
      fs::is_directory(spec.root / spec.split, ec) ? spec.root / spec.split : spec.root;
  // A tree split into train/val/test without the asked split must not be read
  // as a dataset whose classes are "train" and "val".
  if (dir == spec.root) {
    for (const char* split : {"train", "val", "test"}) {
      if (fs::is_directory(spec.root / split, ec)) {
        throw DataError(fmt::format("'{}' has a {}/ folder but no {}/ folder for data.split '{}'",
                                    spec.root.string(), split, spec.split, spec.split));
      }
    }
  }
  Catalog catalog(spec.dataset, spec.split, spec.root);
  catalog.set_class_names(add_class_folders(catalog, dir));
  if (catalog.empty())
    throw DataError(fmt::format("empty dataset: no image under '{}'", dir.string()));
  return catalog;
}

Catalog read_image_list(const CatalogSpec& spec) {
  const fs::path list = spec.list.empty()         ? spec.root / (spec.split + ".txt")
                        : spec.list.is_absolute() ? spec.list
                                                  : spec.root / spec.list;
  std::vector<std::string> names;
  std::unordered_map<std::string, int64_t> label_of;
  const bool have_class_file = !spec.class_file.empty();
  if (have_class_file) {
    const fs::path file =
        spec.class_file.is_absolute() ? spec.class_file : spec.root / spec.class_file;
    const std::string text = read_text_file(file, "category file");
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
      line = trim_view(line);
      if (line.empty()) continue;
      if (!label_of.emplace(std::string(line), static_cast<int64_t>(names.size())).second) {
        throw_at(file, lines.line_number(), fmt::format("class '{}' is listed twice", line));
      }
      names.emplace_back(line);
    }
    if (names.empty())
      throw DataError(fmt::format("category file '{}' lists no class", file.string()));
  }

  const std::string text = read_text_file(list, "list file");
  struct Row {
    std::string_view path, label;
    int64_t line;
  };
  std::vector<Row> rows;
  rows.reserve(count_lines(text));
  bool all_numeric = true;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    if (trim_view(line).empty()) continue;
    Row r{{}, {}, lines.line_number()};
    if (!split_last_token(line, r.path, r.label)) {
      throw_at(list, r.line, fmt::format("expected '<path> <label>', got '{}'", line));
    }
    int64_t v;
    all_numeric = all_numeric && parse_index(r.label, v);
    rows.push_back(r);
  }
  // Labels are indices unless they are names (of the class file, or all names).
  const bool by_name = !all_numeric;
  if (by_name && !have_class_file) {
    std::map<std::string, int> unique;
    for (const auto& r : rows)
      unique.emplace(std::string(r.label), 0);
    for (const auto& [name, unused] : unique) {
      label_of.emplace(name, static_cast<int64_t>(names.size()));
      names.push_back(name);
    }
  }
  int64_t max_label = -1;
  std::vector<int64_t> labels;
  labels.reserve(rows.size());
  for (const auto& r : rows) {
    int64_t label = -1;
    if (by_name) {
      const auto it = label_of.find(std::string(r.label));
      if (it == label_of.end()) {
        throw_at(list, r.line, fmt::format("class '{}' is not in the class list", r.label));
      }
      label = it->second;
    } else {
      parse_index(r.label, label);
      if (!have_class_file && label > kMaxClassIndex) {
        throw_at(list, r.line,
                 fmt::format("label {} above {}: a class index (give data.class_file for names)",
                             label, kMaxClassIndex));
      }
      if (have_class_file && label >= static_cast<int64_t>(names.size())) {
        throw_at(list, r.line,
                 fmt::format("label {} out of range: expected 0..{} ({} classes)", label,
                             names.size() - 1, names.size()));
      }
    }
    max_label = std::max(max_label, label);
    labels.push_back(label);
  }
  if (!have_class_file && !by_name) {
    for (int64_t i = 0; i <= max_label; ++i)
      names.push_back(std::to_string(i));
  }
  Catalog catalog(spec.dataset, spec.split, spec.root);
  catalog.set_class_names(std::move(names));
  catalog.reserve(rows.size(), text.size());
  const bool verify = rows.size() <= kVerifyLimit;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (verify) require_file(spec.root, rows[i].path, list, rows[i].line);
    catalog.add(rows[i].path, labels[i]);
  }
  if (catalog.empty())
    throw DataError(fmt::format("empty dataset: '{}' lists no image", list.string()));
  return catalog;
}

}  // namespace scenery::data
