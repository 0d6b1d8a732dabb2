#include "data/synth_scene.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace scenery::data::synth {

namespace {

constexpr int kSynthObjectClasses = 150;
constexpr double kPi = 3.14159265358979323846;

// ADE20K ids (1-based) that make plausible backgrounds and objects.
const std::vector<int> kIndoorTop = {1, 6, 19, 9};
const std::vector<int> kIndoorBottom = {4, 29, 102, 54};
const std::vector<int> kOutdoorTop = {3, 5, 2, 17, 69};
const std::vector<int> kOutdoorBottom = {10, 7, 47, 22, 27, 30, 14, 12, 53, 61, 95, 92, 55};
const std::vector<int> kIndoorThings = {
    8,  11, 15,  16,  18,  20,  23,  24,  25,  28,  31,  34,  36,  37,  38,  40,  42,  45, 46,
    48, 50, 51,  57,  58,  63,  64,  65,  66,  68,  71,  72,  74,  75,  76,  79,  82,  86, 90,
    98, 99, 101, 108, 109, 111, 118, 125, 130, 131, 132, 135, 136, 142, 144, 146, 147, 149};
const std::vector<int> kOutdoorThings = {13,  21,  26,  33,  35,  49,  62,  70,  73,  77,
                                         81,  84,  85,  88,  91,  94,  104, 105, 106, 114,
                                         115, 117, 127, 128, 137, 140, 150, 44,  87,  43};

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Per-pixel noise: far cheaper than a Mersenne twister per channel.
struct FastNoise {
  uint64_t s;
  double next() {  // roughly normal, mean 0, sd ~1 (sum of two uniforms)
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    const double a = static_cast<double>(s & 0xFFFFFFFF) / 4294967296.0;
    const double b = static_cast<double>(s >> 32) / 4294967296.0;
    return (a + b - 1.0) * 2.45;
  }
};

struct Appearance {
  std::array<double, 3> base{}, dir{};  // BGR
  int pattern = 0;                      // flat, h/v/diagonal stripes, checker, dots
  double period = 8, amplitude = 30, noise = 8;
};

// A random look: colour from HSV, a pattern, its period and amplitude, noise.
Appearance random_appearance(std::mt19937_64& rng) {
  Appearance a;
  const double hue = uniform(rng, 0, 6), sat = uniform(rng, 0.3, 0.9), val = uniform(rng, 70, 230);
  const int sector = static_cast<int>(hue) % 6;
  const double f = hue - std::floor(hue);
  const double p = val * (1 - sat), q = val * (1 - sat * f), r = val * (1 - sat * (1 - f));
  std::array<double, 3> rgb;
  switch (sector) {
    case 0:
      rgb = {val, r, p};
      break;
    case 1:
      rgb = {q, val, p};
      break;
    case 2:
      rgb = {p, val, r};
      break;
    case 3:
      rgb = {p, q, val};
      break;
    case 4:
      rgb = {r, p, val};
      break;
    default:
      rgb = {val, p, q};
      break;
  }
  a.base = {rgb[2], rgb[1], rgb[0]};
  for (auto& d : a.dir)
    d = uniform(rng, -1, 1);
  a.pattern = static_cast<int>(uniform_index(rng, 6));
  a.period = uniform(rng, 5, 20);
  a.amplitude = uniform(rng, 15, 45);
  a.noise = uniform(rng, 4, 12);
  return a;
}

// Fixed per object class (independent of the dataset seed) so that an object
// looks the same in every synthetic dataset.
const std::array<Appearance, kSynthObjectClasses + 1>& appearances() {
  static const auto table = [] {
    std::array<Appearance, kSynthObjectClasses + 1> t{};
    for (int id = 0; id <= kSynthObjectClasses; ++id) {
      std::mt19937_64 rng(mix_seed(0xADE20C, static_cast<uint64_t>(id)));
      t[id] = random_appearance(rng);
    }
    // Unlabelled outlines: dark and plain.
    t[0].base = {40, 40, 40};
    t[0].pattern = 0;
    t[0].amplitude = 0;
    t[0].noise = 6;
    return t;
  }();
  return table;
}

// Hard scenes: the three classes of a look-alike group 3g+1..3g+3 share the
// first one's palette and pattern; only the texture period differs, by 25 %
// per member (a cue that per-image texture variation and noise blur).
const std::array<Appearance, kSynthObjectClasses + 1>& look_alike_appearances() {
  static const auto table = [] {
    std::array<Appearance, kSynthObjectClasses + 1> t = appearances();
    for (int id = 1; id <= kSynthObjectClasses; ++id) {
      const int leader = (id - 1) / 3 * 3 + 1;
      t[id] = appearances()[leader];
      t[id].period *= 1.0 + 0.25 * ((id - 1) % 3);
    }
    return t;
  }();
  return table;
}

// Look-alike groups usable as objects: none of their ids is a background.
std::vector<int> object_groups() {
  std::vector<int> groups;
  for (int g = 0; g < kSynthObjectClasses / 3; ++g) {
    bool stuff = false;
    for (const auto* list : {&kIndoorTop, &kIndoorBottom, &kOutdoorTop, &kOutdoorBottom})
      for (int id : *list)
        stuff = stuff || (id - 1) / 3 == g;
    if (!stuff) groups.push_back(g);
  }
  return groups;
}

double pattern_value(int pattern, double x, double y, double period) {
  switch (pattern) {
    case 1:
      return std::sin(2 * kPi * y / period);
    case 2:
      return std::sin(2 * kPi * x / period);
    case 3:
      return std::sin(2 * kPi * (x + y) / (period * 1.4));
    case 4:
      return ((static_cast<int>(x / period) + static_cast<int>(y / period)) & 1) ? 1 : -1;
    case 5:
      return std::cos(2 * kPi * x / period) * std::cos(2 * kPi * y / period);
    default:
      return 0;
  }
}

int pick(std::mt19937_64& rng, const std::vector<int>& from) {
  return from[uniform_index(rng, from.size())];
}

void draw_object(cv::Mat& mask, const ObjectSpec& o, int width, int height, int outline) {
  const double x0 = (o.cx - o.w / 2) * width, x1 = (o.cx + o.w / 2) * width;
  const double y0 = (o.cy - o.h / 2) * height, y1 = (o.cy + o.h / 2) * height;
  const cv::Scalar id(o.object), none(0);
  if (o.shape == 1) {
    const cv::RotatedRect box(
        cv::Point2f(static_cast<float>(o.cx * width), static_cast<float>(o.cy * height)),
        cv::Size2f(static_cast<float>(x1 - x0), static_cast<float>(y1 - y0)), 0.f);
    cv::ellipse(mask, box, id, cv::FILLED, cv::LINE_8);
    cv::ellipse(mask, box, none, outline, cv::LINE_8);
    return;
  }
  std::vector<cv::Point> poly;
  if (o.shape == 2) {
    poly = {{static_cast<int>(o.cx * width), static_cast<int>(y0)},
            {static_cast<int>(x0), static_cast<int>(y1)},
            {static_cast<int>(x1), static_cast<int>(y1)}};
  } else {
    poly = {{static_cast<int>(x0), static_cast<int>(y0)},
            {static_cast<int>(x1), static_cast<int>(y0)},
            {static_cast<int>(x1), static_cast<int>(y1)},
            {static_cast<int>(x0), static_cast<int>(y1)}};
  }
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, id, cv::LINE_8);
  cv::polylines(mask, std::vector<std::vector<cv::Point>>{poly}, true, none, outline, cv::LINE_8);
}

// Larger objects first, so the small ones stay visible on top.
void sort_by_area(std::vector<ObjectSpec>& objects) {
  std::stable_sort(objects.begin(), objects.end(),
                   [](const ObjectSpec& a, const ObjectSpec& b) { return a.w * a.h > b.w * b.h; });
}

// A class of a family: background and object layout come from the family's
// stream, so members differ only in which object classes fill the layout.
SceneSpec make_family_scene(uint64_t seed, int scene_class, bool indoor, const SynthDifficulty& d) {
  const int size = std::max(1, d.family_size);
  const int family = scene_class / size, member = scene_class % size;
  // Families sharing their semantics draw everything from one stream but the
  // look of their stuff.
  const uint64_t stream = d.families_share_semantics ? 0 : static_cast<uint64_t>(family) + 1;
  std::mt19937_64 rng(mix_seed(seed, 0xFA3111E, stream));
  SceneSpec s;
  if (d.families_share_semantics)
    s.stuff_palette = mix_seed(seed, 0x57AFF, static_cast<uint64_t>(family) + 1);
  s.top = pick(rng, indoor ? kIndoorTop : kOutdoorTop);
  s.bottom = pick(rng, indoor ? kIndoorBottom : kOutdoorBottom);
  s.horizon = uniform(rng, 0.35, 0.7);
  s.look_alike = d.look_alike_objects;
  s.distractors = indoor ? kIndoorThings : kOutdoorThings;
  const int count = 2 + static_cast<int>(uniform_index(rng, 2));
  for (int i = 0; i < count; ++i) {
    ObjectSpec o;
    o.shape = static_cast<int>(uniform_index(rng, 3));
    o.w = uniform(rng, 0.2, 0.45);
    o.h = uniform(rng, 0.2, 0.45);
    o.cx = uniform(rng, 0.2, 0.8);
    o.cy = std::clamp(s.horizon + uniform(rng, -0.25, 0.25), 0.2, 0.8);
    o.presence = uniform(rng, 0.85, 1.0);
    s.objects.push_back(o);
  }
  if (d.look_alike_objects) {
    // Object i of member m is the m-th class of the family's i-th group.
    std::vector<int> groups = object_groups();
    for (auto& o : s.objects) {
      const size_t k = uniform_index(rng, groups.size());
      o.object = groups[k] * 3 + 1 + member % 3;
      groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(k));
    }
  } else {
    // Each member fills the layout with its own object classes, drawn without
    // replacement from the family's shuffled pool so members never share one.
    std::vector<int> pool = indoor ? kIndoorThings : kOutdoorThings;
    for (size_t i = pool.size(); i > 1; --i)
      std::swap(pool[i - 1], pool[uniform_index(rng, i)]);
    for (size_t i = 0; i < s.objects.size(); ++i)
      s.objects[i].object =
          pool[(static_cast<size_t>(member) * s.objects.size() + i) % pool.size()];
  }
  sort_by_area(s.objects);
  return s;
}

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a;
  uint64_t h = splitmix64(x);
  x = h ^ b;
  h = splitmix64(x);
  x = h ^ c;
  return splitmix64(x);
}

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}
uint64_t uniform_index(std::mt19937_64& rng, uint64_t n) {
  return n == 0 ? 0 : rng() % n;
}

SceneSpec make_scene(uint64_t seed, int scene_class, bool indoor, const SynthDifficulty& d) {
  if (d.family_size > 1 || d.look_alike_objects)
    return make_family_scene(seed, scene_class, indoor, d);
  std::mt19937_64 rng(mix_seed(seed, 0x5CE4E, static_cast<uint64_t>(scene_class)));
  SceneSpec s;
  s.top = pick(rng, indoor ? kIndoorTop : kOutdoorTop);
  s.bottom = pick(rng, indoor ? kIndoorBottom : kOutdoorBottom);
  s.horizon = uniform(rng, 0.35, 0.7);
  std::vector<int> pool = indoor ? kIndoorThings : kOutdoorThings;
  const int count = 2 + static_cast<int>(uniform_index(rng, 3));
  for (int i = 0; i < count; ++i) {
    const size_t k = uniform_index(rng, pool.size());
    ObjectSpec o;
    o.object = pool[k];
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(k));
    o.shape = static_cast<int>(uniform_index(rng, 3));
    o.w = uniform(rng, 0.15, 0.45);
    o.h = uniform(rng, 0.15, 0.45);
    o.cx = uniform(rng, 0.2, 0.8);
    o.cy = std::clamp(s.horizon + uniform(rng, -0.25, 0.25), 0.2, 0.8);
    o.presence = uniform(rng, 0.8, 1.0);
    s.objects.push_back(o);
  }
  sort_by_area(s.objects);
  return s;
}

RenderedScene render_scene(const SceneSpec& scene, std::mt19937_64& rng, int width, int height,
                           const SynthDifficulty& d) {
  RenderedScene out;
  out.mask = cv::Mat(height, width, CV_8UC1);
  // Geometry: every draw from `rng` happens here, before any per-pixel work.
  const double horizon = scene.horizon + uniform(rng, -0.05, 0.05);
  const double wave_amp = uniform(rng, 0, 0.03), wave_freq = uniform(rng, 0.5, 3),
               wave_phase = uniform(rng, 0, 2 * kPi);
  std::vector<ObjectSpec> drawn;
  const double jitter = d.position_jitter, scale = d.scale_variation;
  for (ObjectSpec o : scene.objects) {
    if (uniform01(rng) >= o.presence) continue;
    o.cx += uniform(rng, -jitter, jitter);
    o.cy += uniform(rng, -jitter, jitter);
    o.w *= uniform(rng, 1 - scale, 1 + scale);
    o.h *= uniform(rng, 1 - scale, 1 + scale);
    drawn.push_back(o);
  }
  if (uniform01(rng) < d.distractor_probability) {  // clutter over the scene's objects
    const int n = 1 + static_cast<int>(uniform_index(
                          rng, static_cast<uint64_t>(std::max(1, d.max_distractors))));
    for (int i = 0; i < n; ++i) {
      ObjectSpec o;
      o.object = scene.distractors.empty()
                     ? 1 + static_cast<int>(uniform_index(rng, kSynthObjectClasses))
                     : pick(rng, scene.distractors);
      o.shape = static_cast<int>(uniform_index(rng, 3));
      o.cx = uniform(rng, 0.1, 0.9), o.cy = uniform(rng, 0.1, 0.9);
      o.w = uniform(rng, d.distractor_size_min, d.distractor_size_max);
      o.h = uniform(rng, d.distractor_size_min, d.distractor_size_max);
      drawn.push_back(o);
    }
  }
  const double brightness = uniform(rng, 1 - d.illumination, 1 + d.illumination);
  const double cast = d.colour_cast;
  const std::array<double, 3> shift = {uniform(rng, -cast, cast), uniform(rng, -cast, cast),
                                       uniform(rng, -cast, cast)};
  // A light gradient: gain 1 + shading_strength * (projection on a random direction).
  double shade_x = 0, shade_y = 0;
  if (d.shading > 0) {
    const double angle = uniform(rng, 0, 2 * kPi), strength = uniform(rng, 0, d.shading);
    shade_x = strength * std::cos(angle), shade_y = strength * std::sin(angle);
  }
  // This image's look of every object class (colour gains, texture scale).
  std::array<Appearance, kSynthObjectClasses + 1> look =
      scene.look_alike ? look_alike_appearances() : appearances();
  if (scene.stuff_palette != 0) {
    std::mt19937_64 palette(scene.stuff_palette);
    look[scene.top] = random_appearance(palette);
    look[scene.bottom] = random_appearance(palette);
  }
  if (d.colour_variation > 0 || d.texture_variation > 0) {
    std::mt19937_64 looks(rng());
    const double cv = d.colour_variation, tv = d.texture_variation;
    for (int id = 1; id <= kSynthObjectClasses; ++id) {
      for (auto& b : look[id].base)
        b *= uniform(looks, 1 - cv, 1 + cv);
      look[id].period *= uniform(looks, 1 - tv, 1 + tv);
      look[id].amplitude *= uniform(looks, 1 - tv, 1 + tv);
    }
  }
  FastNoise noise{rng() | 1};

  std::vector<double> boundary(width);
  for (int x = 0; x < width; ++x) {
    boundary[x] =
        (horizon + wave_amp * std::sin(wave_freq * 2 * kPi * x / width + wave_phase)) * height;
  }
  for (int y = 0; y < height; ++y) {
    uint8_t* row = out.mask.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x)
      row[x] = static_cast<uint8_t>(y < boundary[x] ? scene.top : scene.bottom);
  }
  const int outline = std::max(1, static_cast<int>(std::lround(std::min(width, height) / 200.0)));
  for (const auto& o : drawn)
    draw_object(out.mask, o, width, height, outline);

  // Texture periods scale with the image, so a 512 px original and its 256 px
  // version show the same pattern.
  const double texture_scale = std::min(width, height) / 256.0;
  out.bgr = cv::Mat(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    const uint8_t* m = out.mask.ptr<uint8_t>(y);
    cv::Vec3b* px = out.bgr.ptr<cv::Vec3b>(y);
    const double row_light = brightness * (1 + shade_y * (2.0 * y / height - 1));
    for (int x = 0; x < width; ++x) {
      const Appearance& a = look[m[x]];
      const double f =
          pattern_value(a.pattern, x / texture_scale, y / texture_scale, a.period) * a.amplitude;
      const double light = row_light * (1 + shade_x * (2.0 * x / width - 1));
      for (int c = 0; c < 3; ++c) {
        const double v =
            (a.base[c] + f * a.dir[c]) * light + shift[c] + a.noise * d.noise_scale * noise.next();
        px[x][c] = cv::saturate_cast<uint8_t>(v);
      }
    }
  }
  return out;
}

SemanticMaps make_semantic_maps(const cv::Mat& mask, std::mt19937_64& rng) {
  std::array<int64_t, kSynthObjectClasses + 1> count{};
  for (int y = 0; y < mask.rows; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < mask.cols; ++x)
      ++count[m[x]];
  }
  int dominant = 1;
  for (int c = 1; c <= kSynthObjectClasses; ++c) {
    if (count[c] > count[dominant]) dominant = c;
  }
  // Per class present: its runner-ups (fixed "look-alike" partners, as a real
  // network confuses the same pairs) and how sure the network is.
  struct Guess {
    std::array<int, 3> rank{};
    double s1 = 0.7, f2 = 0.6, f3 = 0.5;
  };
  std::array<Guess, kSynthObjectClasses + 1> guess{};
  for (int c = 0; c <= kSynthObjectClasses; ++c) {
    if (count[c] == 0) continue;
    const int truth = c == 0 ? dominant : c;
    std::mt19937_64 partners(mix_seed(0xC0F05E, static_cast<uint64_t>(truth)));
    int p1 = 1 + static_cast<int>(uniform_index(partners, kSynthObjectClasses));
    if (p1 == truth) p1 = p1 % kSynthObjectClasses + 1;
    int p2 = 1 + static_cast<int>(uniform_index(partners, kSynthObjectClasses));
    while (p2 == truth || p2 == p1)
      p2 = p2 % kSynthObjectClasses + 1;
    Guess& g = guess[c];
    g.rank = {truth, p1, p2};
    if (c != 0 && uniform01(rng) < 0.08) std::swap(g.rank[0], g.rank[1]);  // a wrong top-1
    g.s1 = c == 0 ? uniform(rng, 0.35, 0.5) : uniform(rng, 0.5, 0.92);
    g.f2 = uniform(rng, 0.5, 0.8);
    g.f3 = uniform(rng, 0.3, 0.9);
  }
  const double fx = uniform(rng, 1, 4) * 2 * kPi / mask.cols,
               fy = uniform(rng, 1, 4) * 2 * kPi / mask.rows;
  const double phase = uniform(rng, 0, 2 * kPi);
  std::vector<double> wave_x(mask.cols), wave_y(mask.rows);
  for (int x = 0; x < mask.cols; ++x)
    wave_x[x] = 0.08 * std::sin(fx * x + phase);
  for (int y = 0; y < mask.rows; ++y)
    wave_y[y] = std::cos(fy * y);

  SemanticMaps out;
  out.classes = cv::Mat(mask.size(), CV_8UC3);
  out.scores = cv::Mat(mask.size(), CV_8UC3);
  for (int y = 0; y < mask.rows; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    cv::Vec3b* cls = out.classes.ptr<cv::Vec3b>(y);
    cv::Vec3b* sc = out.scores.ptr<cv::Vec3b>(y);
    for (int x = 0; x < mask.cols; ++x) {
      const Guess& g = guess[m[x]];
      const double s1 = std::clamp(g.s1 + wave_x[x] * wave_y[y], 0.34, 0.99);
      const double s2 = (1 - s1) * g.f2, s3 = (1 - s1 - s2) * g.f3;
      // Mat channels are B, G, R; the file's R, G, B = rank 1, 2, 3.
      cls[x] = cv::Vec3b(static_cast<uint8_t>(g.rank[2] - 1), static_cast<uint8_t>(g.rank[1] - 1),
                         static_cast<uint8_t>(g.rank[0] - 1));
      sc[x] = cv::Vec3b(cv::saturate_cast<uint8_t>(s3 * 255), cv::saturate_cast<uint8_t>(s2 * 255),
                        cv::saturate_cast<uint8_t>(s1 * 255));
    }
  }
  return out;
}

}  // namespace scenery::data::synth
