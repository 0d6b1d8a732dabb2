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

// Class indices a list may use when no class file names the classes: each
// index up to the largest becomes a class name, so a label of 4445644456 would
// make billions (found by fuzz_catalog). Far above any scene dataset (365).
inline constexpr int64_t kMaxClassIndex = 999'999;

// Where a file of a sharded sample lies inside its tar shard.
struct MemberRange {
  uint64_t offset = 0;  // first byte of the member's data in the shard
  uint64_t size = 0;    // bytes
};

// The files of a sample, in Sample's field order.
enum class SampleFile { kImage = 0, kMask = 1, kSemanticClasses = 2, kSemanticScores = 3 };

// One sample, materialised on demand from the catalog.
struct Sample {
  std::filesystem::path image;
  int64_t label = -1;                      // -1: unlabelled (test splits)
  std::filesystem::path mask;              // ADE20K annotation PNG, or empty
  std::filesystem::path semantic_classes;  // top-3 class PNG (noisy_annotations_RGB), or empty
  std::filesystem::path semantic_scores;   // top-3 score PNG (noisy_scores_RGB), or empty
  // Sharded datasets (WebDataset): the tar holding the sample; the paths
  // above are then `shard / member name` (for messages and submission names)
  // and `members` locates each file's bytes. Empty for per-file datasets.
  std::filesystem::path shard;
  MemberRange members[4];

  const std::filesystem::path& file(SampleFile f) const;
};

class Catalog {
 public:
  Catalog() = default;
  Catalog(std::string dataset, std::string split, std::filesystem::path root);

  // Paths are stored relative to `root()` when given relative.
  void add(std::string_view image, int64_t label, std::string_view mask = {},
           std::string_view semantic_classes = {}, std::string_view semantic_scores = {});
  // Sharded datasets: registers a shard (returns its id), then adds a sample
  // whose files are members of it (names as in the tar; absent ones empty).
  uint32_t add_shard(const std::filesystem::path& shard);
  void add_member_sample(uint32_t shard, int64_t label, const std::string_view (&names)[4],
                         const MemberRange (&ranges)[4]);
  bool sharded() const { return !shards_.empty(); }
  const std::vector<std::filesystem::path>& shards() const { return shards_; }
  uint32_t shard_of(size_t i) const { return sample_shard_.at(i); }
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
  // Sharded catalogs only (empty otherwise): per sample its shard and kFields member ranges.
  std::vector<std::filesystem::path> shards_;
  std::vector<uint32_t> sample_shard_;
  std::vector<MemberRange> ranges_;
  bool has_masks_ = false, has_semantic_ = false;
};

}  // namespace scenery::data
