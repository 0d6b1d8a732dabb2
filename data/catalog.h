// A Catalog is the list of samples of one dataset split: image path, scene
// label, optional annotation mask and optional precomputed semantic maps, plus
// the class names. Readers of each official layout (catalog_readers.h) build it;
// the loader only reads it.
//
// Memory: Places365-Standard train has 1.8 M samples, so paths live in one
// shared character pool with offsets instead of one std::string per field
// (about 40 bytes a sample instead of ~170).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace scenery::data {

// One sample, materialised on demand from the catalog.
struct Sample {
  std::filesystem::path image;
  int64_t label = -1;                      // -1: unlabelled (test splits)
  std::filesystem::path mask;              // ADE20K annotation PNG, or empty
  std::filesystem::path semantic_classes;  // top-3 class PNG (noisy_annotations_RGB), or empty
  std::filesystem::path semantic_scores;   // top-3 score PNG (noisy_scores_RGB), or empty
};

class Catalog {
 public:
  Catalog() = default;
  Catalog(std::string dataset, std::string split, std::filesystem::path root);

  // Paths are stored relative to `root()` when given relative.
  void add(std::string_view image, int64_t label, std::string_view mask = {},
           std::string_view semantic_classes = {}, std::string_view semantic_scores = {});
  void reserve(size_t samples, size_t path_bytes);
  void set_class_names(std::vector<std::string> names) { class_names_ = std::move(names); }
  // ADE20K: the object classes of the masks (index 0 = mask value 1).
  void set_object_names(std::vector<std::string> names) { object_names_ = std::move(names); }
  // Returns spare sample-table capacity once all samples are added.
  void shrink_to_fit();

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  Sample at(size_t i) const;  // throws std::out_of_range
  int64_t label(size_t i) const { return labels_.at(i); }
  std::string_view image_path(size_t i) const { return field(i, 0); }
  bool has_masks() const { return has_masks_; }
  bool has_semantic_maps() const { return has_semantic_; }

  const std::vector<std::string>& class_names() const { return class_names_; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names_.size()); }
  const std::vector<std::string>& object_names() const { return object_names_; }
  const std::string& dataset() const { return dataset_; }
  const std::string& split() const { return split_; }
  const std::filesystem::path& root() const { return root_; }

  // Bytes held by the sample table (for the memory budget test and `check`).
  size_t memory_bytes() const;

 private:
  static constexpr int kFields = 4;  // image, mask, semantic classes, semantic scores
  std::string_view field(size_t i, int f) const;
  std::filesystem::path resolve(std::string_view p) const;

  std::string dataset_, split_;
  std::filesystem::path root_;
  std::vector<std::string> class_names_;
  std::vector<std::string> object_names_;
  std::string pool_;               // all path characters, back to back
  std::vector<uint64_t> offsets_;  // kFields + 1 offsets per sample into pool_ (last = end)
  std::vector<int64_t> labels_;
  bool has_masks_ = false, has_semantic_ = false;
};

}  // namespace scenery::data
