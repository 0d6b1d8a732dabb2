// The synthetic dataset generator: writes any supported official layout
// (quirks included: missing final newlines, three-level and dashed category
// names, MIT67 file names with spaces and apostrophes, ADE20K 8-bit masks
// and objectInfo150.csv) filled with learnable scenes (synth_scene.h).
//
// Deterministic: the same options give byte-identical files, whatever the
// thread count (every image has its own RNG seeded from seed and index).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace scenery::data {

struct SynthOptions {
  std::string layout = "places365";  // one of synth_layouts()
  std::filesystem::path out;         // becomes data.root of the matching catalog
  int classes = 10;                  // scene classes (at most the built-in name list)
  int per_class = 20;                // training images per class (MIT67: about)
  uint64_t seed = 0;
  int size = 256;                  // side of *_256 images / shorter side otherwise
  bool large = false;              // places365: also data_large/val_large/test_large
  bool semantic_maps = false;      // ade20k: noisy_annotations_RGB / noisy_scores_RGB
  std::function<void()> on_image;  // called once per image written, from any thread
};

struct SynthResult {
  std::vector<std::string> class_names;        // label order, as the catalog reports them
  std::map<std::string, int64_t> split_sizes;  // "train", "val", "test" -> images
  int64_t images = 0;                          // image files written (all variants)
  // The labels the official layout hides: test images in file-name order
  // (places365, ade20k), for scorer and submission tests.
  std::vector<int> test_labels;
};

// "places365", "places365-easy", "places205", "sun397", "mit67", "ade20k".
const std::vector<std::string>& synth_layouts();

// Images per class in the val and test splits for `per_class` training images.
int synth_eval_per_class(int per_class);

// Side of the *_large images' shorter edge.
constexpr int kSynthLargeSide = 512;

// Writes the dataset. Throws UsageError for bad options (listing the valid
// layouts, or the number of names available) and IoError when `out` is not
// writable.
SynthResult write_synthetic_dataset(const SynthOptions& options);

}  // namespace scenery::data
