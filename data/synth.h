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

// What makes scene classes hard to tell apart, knob by knob. The presets
// (synth_difficulty()) are what `scenery-data synth --difficulty` offers:
//  - easy: every class has its own background and objects, each object class
//    one fixed look. RGB alone reaches top-1 1.0 on it (the original generator).
//  - medium / hard: what makes real scenes ambiguous in RGB but clear in their
//    semantics. Classes come in families that share background and palette and
//    differ only in which objects they contain (hard: objects that look alike,
//    and families that differ only in their stuff's look, so RGB and semantics
//    are each ambiguous where the other is not), and every image varies colour,
//    texture, scale, position, clutter and light.
// Annotation masks and top-3 maps are always drawn from the same shapes as the
// pixels, so they stay consistent whatever the knobs.
struct SynthDifficulty {
  std::string name = "easy";
  // Scene classes per family: the classes c with the same c / family_size
  // share stuff above and below the horizon, the horizon and where their
  // objects sit; they differ only in which object classes those are. 1 = every
  // class its own background (easy).
  int family_size = 1;
  // The classes of a family contain objects of one look-alike group (ADE20K ids
  // 3g+1..3g+3): drawn with one palette and pattern (texture periods differ by
  // a quarter), so RGB barely tells them apart while the mask names them.
  bool look_alike_objects = false;
  // Families differ only in the palette and texture of their stuff: the same
  // stuff classes, layout and, member by member, the same object classes. The
  // semantic map alone then cannot tell family f's m-th class from family g's
  // m-th class, while RGB can; RGB alone cannot tell the members of a family
  // apart, while the semantic map can. Only both together name the scene.
  bool families_share_semantics = false;
  // Per image, each object class's colour is scaled by 1 +- colour_variation
  // per channel, its texture period and amplitude by 1 +- texture_variation.
  double colour_variation = 0, texture_variation = 0;
  // Per image, each object's width and height are scaled by 1 +- scale_variation
  // and its centre moved by up to +- position_jitter (relative to the image).
  double scale_variation = 0.2, position_jitter = 0.07;
  // Clutter: with distractor_probability, 1..max_distractors objects of any
  // class of the dataset's pool (other scenes' objects included), of relative
  // size distractor_size_min..max, are drawn over the scene's own (occluding them).
  double distractor_probability = 0.25;
  int max_distractors = 1;
  double distractor_size_min = 0.05, distractor_size_max = 0.12;
  // Light: global brightness 1 +- illumination, per-channel colour cast of up
  // to +- colour_cast grey levels, a linear light gradient across the image
  // of 1 +- shading, and pixel noise scaled by noise_scale.
  double illumination = 0.15, colour_cast = 10, shading = 0, noise_scale = 1;
};

// The difficulties by name: synth_difficulty_names() = easy, medium, hard;
// UsageError naming the valid ones otherwise.
SynthDifficulty synth_difficulty(const std::string& name);
const std::vector<std::string>& synth_difficulty_names();

struct SynthOptions {
  std::string layout = "places365";  // one of synth_layouts()
  std::filesystem::path out;         // becomes data.root of the matching catalog
  int classes = 10;                  // scene classes (at most the built-in name list)
  int per_class = 20;                // training images per class (MIT67: about)
  uint64_t seed = 0;
  int size = 256;                  // side of *_256 images / shorter side otherwise
  bool large = false;              // places365: also data_large/val_large/test_large
  bool semantic_maps = false;      // ade20k: noisy_annotations_RGB / noisy_scores_RGB
  SynthDifficulty difficulty;      // easy by default
  int eval_per_class = 0;          // val and test images per class; 0 = synth_eval_per_class()
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

// Images per class in the val and test splits for `per_class` training images
// (unless SynthOptions::eval_per_class says otherwise).
int synth_eval_per_class(int per_class);

// Side of the *_large images' shorter edge.
constexpr int kSynthLargeSide = 512;

// Writes the dataset. Throws UsageError for bad options (listing the valid
// layouts, or the number of names available) and IoError when `out` is not
// writable.
SynthResult write_synthetic_dataset(const SynthOptions& options);

}  // namespace scenery::data
