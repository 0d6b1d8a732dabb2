// Learnable synthetic scenes. A scene class is defined by its background
// ("stuff" above and below a horizon) and a fixed set of 2-4 object classes,
// each with a preferred shape, position and size; every image jitters them
// (how much, and how alike classes are: SynthDifficulty in data/synth.h).
// Each object class has its own colour and texture pattern, so a CNN can
// learn scenes from RGB, a parsing net can learn the masks (the mask is the
// drawn shapes, ADE20K ids 1..150, outlines 0 = unlabelled) and the semantic
// map alone carries the scene.
//
// Randomness: a tiny portable RNG (splitmix64 seeding + our own uniform
// draws) instead of std::*_distribution, whose output differs between
// standard libraries: the same seed gives the same bytes everywhere.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "data/synth.h"

namespace scenery::data::synth {

// A seed mixed from several parts (dataset seed, stream, index).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0);

// Uniform draws from a std::mt19937_64 with portable results.
double uniform01(std::mt19937_64& rng);
double uniform(std::mt19937_64& rng, double lo, double hi);
uint64_t uniform_index(std::mt19937_64& rng, uint64_t n);  // 0..n-1

struct ObjectSpec {
  int object = 1;                               // ADE20K class id 1..150
  int shape = 0;                                // 0 rectangle, 1 ellipse, 2 triangle
  double cx = 0.5, cy = 0.5, w = 0.3, h = 0.3;  // relative to the image
  double presence = 1.0;                        // probability of appearing
};

struct SceneSpec {
  int top = 3;           // stuff above the horizon (sky, wall, ceiling, ...)
  int bottom = 4;        // stuff below (floor, grass, road, ...)
  double horizon = 0.5;  // relative height of the boundary
  std::vector<ObjectSpec> objects;
  std::vector<int> distractors;  // ids clutter is drawn from; empty: any of 1..150
  bool look_alike = false;       // objects drawn with their look-alike group's appearance
  uint64_t stuff_palette = 0;    // non-zero: top and bottom look as drawn from this seed
};

// The definition of scene class `scene_class` for a dataset seed; `indoor`
// picks indoor or outdoor stuff and objects (with families, pass the same
// value for every class of a family: they share the background).
SceneSpec make_scene(uint64_t seed, int scene_class, bool indoor,
                     const SynthDifficulty& difficulty = {});

struct RenderedScene {
  cv::Mat bgr;   // CV_8UC3, for cv::imwrite
  cv::Mat mask;  // CV_8UC1, ADE20K ids (0 = unlabelled)
};

// Draws one image of `scene` at width x height. All geometry is drawn first,
// in relative coordinates, so the same rng gives the same layout at any size.
RenderedScene render_scene(const SceneSpec& scene, std::mt19937_64& rng, int width, int height,
                           const SynthDifficulty& difficulty = {});

// Precomputed top-3 semantic maps derived from a true mask: noisy runner-up
// classes and scores. Pixel channels are in file order R, G, B = rank 1, 2, 3
// once written by cv::imwrite (i.e. Mat channels B, G, R = rank 3, 2, 1).
// Classes hold ADE id - 1 (0-based, the "value + 1" convention); scores are
// score * 255.
struct SemanticMaps {
  cv::Mat classes;  // CV_8UC3
  cv::Mat scores;   // CV_8UC3
};
SemanticMaps make_semantic_maps(const cv::Mat& mask, std::mt19937_64& rng);

}  // namespace scenery::data::synth
