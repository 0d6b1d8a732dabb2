// ADE20K SceneParsing (layout in catalog_readers.h). Scene labels come from
// sceneCategories.txt, which the challenge release ships beside the images.
#include <fmt/core.h>

#include <algorithm>
#include <unordered_map>

#include "data/catalog_readers.h"
#include "data/catalog_text.h"

namespace scenery::data {
namespace fs = std::filesystem;

namespace {

constexpr int kAde20kObjectClasses = 150;

std::vector<std::string> read_object_info(const fs::path& file) {
  const std::string text = read_text_file(file, "category file");
  LineReader lines(text);
  std::string_view line;
  std::vector<std::string> names;
  while (lines.next(line)) {
    line = trim_view(line);
    if (line.empty()) continue;
    if (lines.line_number() == 1) {
      if (line != "Idx,Ratio,Train,Val,Stuff,Name") {
        throw_at(file, 1,
                 fmt::format("expected header 'Idx,Ratio,Train,Val,Stuff,Name', got '{}'", line));
      }
      continue;
    }
    // The name is everything after the fifth comma (synonyms are joined by ';').
    size_t pos = 0;
    for (int i = 0; i < 5 && pos != std::string_view::npos; ++i) {
      pos = line.find(',', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    int64_t idx = -1;
    const size_t first = line.find(',');
    if (pos == std::string_view::npos || pos >= line.size() ||
        !parse_index(line.substr(0, first), idx)) {
      throw_at(file, lines.line_number(),
               fmt::format("expected 'Idx,Ratio,Train,Val,Stuff,Name', got '{}'", line));
    }
    if (idx != static_cast<int64_t>(names.size()) + 1) {
      throw_at(file, lines.line_number(),
               fmt::format("expected Idx {}, got {}", names.size() + 1, idx));
    }
    names.emplace_back(line.substr(pos));
  }
  if (names.size() != kAde20kObjectClasses) {
    throw DataError(fmt::format("{}: expected {} object classes, got {}", file.string(),
                                kAde20kObjectClasses, names.size()));
  }
  return names;
}

struct SceneLine {
  std::string_view id, scene;
  int64_t line;
};

}  // namespace

Catalog read_ade20k(const CatalogSpec& spec) {
  std::string split_dir, prefix;
  if (spec.split == "train") {
    split_dir = "training", prefix = "ADE_train_";
  } else if (spec.split == "val") {
    split_dir = "validation", prefix = "ADE_val_";
  } else if (spec.split != "test") {
    throw ConfigError(fmt::format(
        "data.split '{}' does not exist in ade20k; valid splits: train, val, test", spec.split));
  }
  const fs::path& root = spec.root;
  std::error_code ec;
  const fs::path scene_file = root / "sceneCategories.txt";
  const fs::path object_file = root / "objectInfo150.csv";
  const bool test = spec.split == "test";

  Catalog catalog(spec.dataset, spec.split, root);
  if (!test || fs::exists(object_file, ec)) catalog.set_object_names(read_object_info(object_file));

  std::string scene_text;
  std::vector<SceneLine> scene_lines;
  std::vector<std::string> scenes;
  if (!test || fs::exists(scene_file, ec)) {
    scene_text = read_text_file(scene_file, "category file");
    LineReader lines(scene_text);
    std::string_view line;
    while (lines.next(line)) {
      std::string_view id, scene;
      if (trim_view(line).empty()) continue;
      if (!split_last_token(line, id, scene) || id.find(' ') != std::string_view::npos) {
        throw_at(scene_file, lines.line_number(),
                 fmt::format("expected '<image id> <scene name>', got '{}'", line));
      }
      scene_lines.push_back({id, scene, lines.line_number()});
      scenes.emplace_back(scene);
    }
    std::sort(scenes.begin(), scenes.end());
    scenes.erase(std::unique(scenes.begin(), scenes.end()), scenes.end());
  }
  std::unordered_map<std::string_view, int64_t> label_of;
  for (size_t i = 0; i < scenes.size(); ++i)
    label_of.emplace(scenes[i], static_cast<int64_t>(i));

  if (test) {
    const fs::path dir = root / "release_test" / "testing";
    if (!fs::is_directory(dir, ec))
      throw DataError(fmt::format("missing test folder '{}'", dir.string()));
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file() && is_image_file(e.path()))
        files.push_back(e.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    const fs::path sem_classes = root / "noisy_annotations_RGB" / "testing";
    const fs::path sem_scores = root / "noisy_scores_RGB" / "testing";
    const bool semantic = spec.semantic_maps && fs::is_directory(sem_classes, ec);
    for (const auto& f : files) {
      const std::string image = "release_test/testing/" + f;
      if (semantic) {
        const std::string base = fs::path(f).stem().string() + ".png";
        catalog.add(image, -1, {}, "noisy_annotations_RGB/testing/" + base,
                    "noisy_scores_RGB/testing/" + base);
      } else {
        catalog.add(image, -1);
      }
    }
    catalog.set_class_names(std::move(scenes));
    if (catalog.empty())
      throw DataError(fmt::format("empty dataset: no image in '{}'", dir.string()));
    return catalog;
  }

  const bool semantic =
      spec.semantic_maps && fs::is_directory(root / "noisy_annotations_RGB" / split_dir, ec);
  for (const auto& s : scene_lines) {
    if (s.id.substr(0, prefix.size()) != prefix) continue;
    const std::string image = fmt::format("images/{}/{}.jpg", split_dir, s.id);
    const std::string mask = fmt::format("annotations/{}/{}.png", split_dir, s.id);
    require_file(root, image, scene_file, s.line);
    require_file(root, mask, scene_file, s.line);
    if (semantic) {
      const std::string sc = fmt::format("noisy_annotations_RGB/{}/{}.png", split_dir, s.id);
      const std::string ss = fmt::format("noisy_scores_RGB/{}/{}.png", split_dir, s.id);
      require_file(root, sc, scene_file, s.line);
      require_file(root, ss, scene_file, s.line);
      catalog.add(image, label_of.at(s.scene), mask, sc, ss);
    } else {
      catalog.add(image, label_of.at(s.scene), mask);
    }
  }
  catalog.set_class_names(std::move(scenes));
  if (catalog.empty()) {
    throw DataError(
        fmt::format("empty dataset: '{}' lists no {}* image", scene_file.string(), prefix));
  }
  return catalog;
}

}  // namespace scenery::data
