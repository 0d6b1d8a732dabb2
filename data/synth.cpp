#include "data/synth.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/option_rules.h"
#include "data/synth_names.h"
#include "data/synth_scene.h"

namespace scenery::data {
namespace fs = std::filesystem;
using synth::mix_seed;
using synth::uniform_index;

namespace {

// One image to render; every field is decided serially, before the parallel
// render, so the output does not depend on scheduling.
struct Job {
  int label = 0;  // scene class (index into the chosen names)
  uint64_t seed = 0;
  int width = 0, height = 0;  // rendered size
  fs::path image;             // written at `image_width` x `image_height` (0: as rendered)
  int image_width = 0, image_height = 0;
  fs::path large;  // optional: written as rendered
  fs::path mask, semantic_classes, semantic_scores;
};

enum Stream : uint64_t { kNames = 1, kImages, kOrder, kShape, kFiles, kSplit };

class Writer {
 public:
  explicit Writer(const SynthOptions& o) : o_(o) {}

  // Picks `classes` of `names` reproducibly; with `want_three_level` a name
  // with a sub-level is always among them. Returns indices in list order.
  std::vector<size_t> choose(const std::vector<std::string>& names, bool want_three_level) const {
    if (o_.classes < 1 || o_.classes > static_cast<int>(names.size())) {
      throw UsageError(fmt::format("--classes {} out of range for layout {}: expected 1..{}",
                                   o_.classes, o_.layout, names.size()));
    }
    std::vector<size_t> idx(names.size());
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = i;
    std::mt19937_64 rng(mix_seed(o_.seed, kNames));
    for (size_t i = idx.size() - 1; i > 0; --i)
      std::swap(idx[i], idx[uniform_index(rng, i + 1)]);
    idx.resize(o_.classes);
    const auto three = [&](size_t i) {
      return std::count(names[i].begin(), names[i].end(), '/') == 3;
    };
    if (want_three_level && o_.classes >= 2 && std::none_of(idx.begin(), idx.end(), three)) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (three(i)) {
          idx.back() = i;
          break;
        }
      }
    }
    std::sort(idx.begin(), idx.end());
    return idx;
  }

  // A job for class `label`, image number `index` of stream `stream`; the
  // aspect ratio is random unless `square`.
  Job job(int label, uint64_t stream, uint64_t index, bool square, int side) const {
    Job j;
    j.label = label;
    j.seed = mix_seed(o_.seed, kImages + (stream << 8), index);
    std::mt19937_64 rng(mix_seed(o_.seed, kShape + (stream << 8), index));
    static constexpr double kAspects[] = {1.0, 4.0 / 3.0, 3.0 / 2.0, 3.0 / 4.0};
    const double aspect = square ? 1.0 : kAspects[uniform_index(rng, 4)];
    j.width = aspect >= 1 ? static_cast<int>(std::lround(side * aspect)) : side;
    j.height = aspect >= 1 ? side : static_cast<int>(std::lround(side / aspect));
    return j;
  }

  void add(Job j) { jobs_.push_back(std::move(j)); }

  void text(const fs::path& relative, const std::string& content) {
    const fs::path p = o_.out / relative;
    fs::create_directories(p.parent_path());
    write_file_atomic(p, content);
  }

  // Renders and writes every queued job in parallel; returns images written.
  int64_t render(const std::vector<bool>& indoor) {
    std::set<fs::path> dirs;
    for (const auto& j : jobs_) {
      for (const fs::path* p :
           {&j.image, &j.large, &j.mask, &j.semantic_classes, &j.semantic_scores}) {
        if (!p->empty()) dirs.insert((o_.out / *p).parent_path());
      }
    }
    for (const auto& d : dirs)
      fs::create_directories(d);
    std::vector<synth::SceneSpec> scenes;
    const size_t family = static_cast<size_t>(std::max(1, o_.difficulty.family_size));
    for (size_t c = 0; c < indoor.size(); ++c) {
      // A family shares its first class's background, indoor or outdoor
      // (families that share their semantics: the first class's of all).
      const size_t leader = o_.difficulty.families_share_semantics ? 0 : c / family * family;
      scenes.push_back(
          synth::make_scene(o_.seed, static_cast<int>(c), indoor[leader], o_.difficulty));
    }
    const std::vector<int> jpeg = {cv::IMWRITE_JPEG_QUALITY, 90};
    // Fast deflate: the noisy score maps barely compress at higher levels anyway.
    const std::vector<int> png = {cv::IMWRITE_PNG_COMPRESSION, 1};
    tbb::parallel_for(size_t{0}, jobs_.size(), [&](size_t i) {
      const Job& j = jobs_[i];
      std::mt19937_64 rng(j.seed);
      const synth::RenderedScene r =
          synth::render_scene(scenes[j.label], rng, j.width, j.height, o_.difficulty);
      write_image(j.image, r.bgr, j.image_width, j.image_height, jpeg);
      if (!j.large.empty()) write_image(j.large, r.bgr, 0, 0, jpeg);
      if (!j.mask.empty()) write_image(j.mask, r.mask, 0, 0, png);
      if (!j.semantic_classes.empty()) {
        const synth::SemanticMaps maps = synth::make_semantic_maps(r.mask, rng);
        write_image(j.semantic_classes, maps.classes, 0, 0, png);
        write_image(j.semantic_scores, maps.scores, 0, 0, png);
      }
      if (o_.on_image) o_.on_image();
    });
    int64_t n = 0;
    for (const auto& j : jobs_)
      n += 1 + !j.large.empty();
    return n;
  }

 private:
  void write_image(const fs::path& relative, const cv::Mat& m, int w, int h,
                   const std::vector<int>& params) const {
    cv::Mat out = m;
    if (w > 0 && (w != m.cols || h != m.rows))
      cv::resize(m, out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    const fs::path p = o_.out / relative;
    if (!cv::imwrite(p.string(), out, params))
      throw IoError(fmt::format("cannot write '{}'", p.string()));
  }

  const SynthOptions& o_;
  std::vector<Job> jobs_;
};

bool looks_indoor(const std::string& name) {
  for (const char* w :
       {"indoor",   "interior", "room",      "shop",    "store",     "office", "kitchen",
        "bathroom", "bedroom",  "corridor",  "lobby",   "hall",      "closet", "attic",
        "basement", "cabin",    "cockpit",   "library", "museum",    "studio", "gym",
        "pantry",   "nursery",  "elevator",  "inside",  "cellar",    "bar",    "restaurant",
        "salon",    "theater",  "bookstore", "gallery", "classroom", "lab"}) {
    if (name.find(w) != std::string::npos && name.find("outdoor") == std::string::npos) return true;
  }
  return false;
}

std::string join_lines(const std::vector<std::string>& lines, bool final_newline) {
  std::string s = fmt::format("{}", fmt::join(lines, "\n"));
  if (final_newline && !lines.empty()) s += '\n';
  return s;
}

// "a" from "/a/airfield"; "airfield" / "apartment_building/outdoor" display names.
std::string letter(const std::string& path) {
  return path.substr(1, 1);
}
std::string display(const std::string& path) {
  return path.substr(3);
}
std::string dashed(const std::string& path) {
  std::string s = display(path);
  std::replace(s.begin(), s.end(), '/', '-');
  return s;
}

// Labels 0..classes-1, each `per_class` times, in a reproducible shuffled order.
std::vector<int> shuffled_labels(int classes, int per_class, uint64_t seed) {
  std::vector<int> labels;
  for (int c = 0; c < classes; ++c)
    labels.insert(labels.end(), per_class, c);
  std::mt19937_64 rng(seed);
  for (size_t i = labels.size(); i > 1; --i)
    std::swap(labels[i - 1], labels[uniform_index(rng, i)]);
  return labels;
}

std::string random_letters(std::mt19937_64& rng, int n, const char* alphabet, int size) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += alphabet[uniform_index(rng, size)];
  return s;
}

// Scene classes drawn from the Places category list: their paths
// ("/b/bus_station/indoor"), display names and whether they look indoor.
struct ChosenPlaces {
  std::vector<std::string> paths, names;
  std::vector<bool> indoor;
};

ChosenPlaces choose_places(Writer& w) {
  const auto& all = synth::places_categories();
  ChosenPlaces c;
  for (size_t i : w.choose(all, true)) {
    c.paths.push_back(all[i]);
    c.names.push_back(display(all[i]));
    c.indoor.push_back(looks_indoor(all[i]));
  }
  return c;
}

int eval_count(const SynthOptions& o) {
  return o.eval_per_class > 0 ? o.eval_per_class : synth_eval_per_class(o.per_class);
}

SynthResult write_places365(const SynthOptions& o, bool easy) {
  Writer w(o);
  auto [paths, names, indoor] = choose_places(w);
  const int n = static_cast<int>(paths.size()), k = o.per_class, v = eval_count(o);
  SynthResult result;
  result.class_names = names;
  if (easy) {
    const fs::path base = "places365_standard";
    uint64_t index = 0;
    for (int c = 0; c < n; ++c) {
      for (int i = 1; i <= k; ++i) {
        Job j = w.job(c, 0, index++, true, o.size);
        j.image = base / "train" / dashed(paths[c]) / fmt::format("{:08d}.jpg", i);
        w.add(j);
      }
    }
    const auto val = shuffled_labels(n, v, mix_seed(o.seed, kOrder, 1));
    for (size_t i = 0; i < val.size(); ++i) {
      Job j = w.job(val[i], 1, i, true, o.size);
      j.image =
          base / "val" / dashed(paths[val[i]]) / fmt::format("Places365_val_{:08d}.jpg", i + 1);
      w.add(j);
    }
    result.split_sizes = {{"train", n * k}, {"val", n * v}};
    result.images = w.render(indoor);
    return result;
  }
  std::vector<std::string> lines;
  for (int c = 0; c < n; ++c)
    lines.push_back(fmt::format("{} {}", paths[c], c));
  // Quirk of the official file: no newline after the last category.
  w.text("categories_places365.txt", join_lines(lines, false));

  const auto with_large = [&](Job j, const std::string& folder, const std::string& file) {
    if (o.large) {
      const Job shape = w.job(j.label, 9, j.seed, false, kSynthLargeSide);
      j.width = shape.width, j.height = shape.height;
      j.image_width = j.image_height = o.size;
      j.large = fs::path(folder + "_large") / file;
    } else {
      j.width = j.height = o.size;
    }
    j.image = fs::path(folder + "_256") / file;
    return j;
  };
  lines.clear();
  uint64_t index = 0;
  for (int c = 0; c < n; ++c) {
    for (int i = 1; i <= k; ++i) {
      const std::string rel =
          fmt::format("{}/{}/{:08d}.jpg", letter(paths[c]), display(paths[c]), i);
      w.add(with_large(w.job(c, 0, index++, true, o.size), "data", rel));
      lines.push_back(fmt::format("/{} {}", rel, c));
    }
  }
  w.text("places365_train_standard.txt", join_lines(lines, true));
  lines.clear();
  const auto val = shuffled_labels(n, v, mix_seed(o.seed, kOrder, 1));
  for (size_t i = 0; i < val.size(); ++i) {
    const std::string file = fmt::format("Places365_val_{:08d}.jpg", i + 1);
    w.add(with_large(w.job(val[i], 1, i, true, o.size), "val", file));
    lines.push_back(fmt::format("{} {}", file, val[i]));
  }
  w.text("places365_val.txt", join_lines(lines, true));
  lines.clear();
  const auto test = shuffled_labels(n, v, mix_seed(o.seed, kOrder, 2));
  for (size_t i = 0; i < test.size(); ++i) {
    const std::string file = fmt::format("Places365_test_{:08d}.jpg", i + 1);
    w.add(with_large(w.job(test[i], 2, i, true, o.size), "test", file));
    lines.push_back(file);
  }
  w.text("places365_test.txt", join_lines(lines, true));
  result.test_labels = test;
  result.split_sizes = {{"train", n * k}, {"val", n * v}, {"test", n * v}};
  result.images = w.render(indoor);
  return result;
}

SynthResult write_places205(const SynthOptions& o) {
  Writer w(o);
  auto [paths, names, indoor] = choose_places(w);
  std::vector<std::string> cats;
  const int n = static_cast<int>(paths.size()), k = o.per_class, v = eval_count(o);
  for (int c = 0; c < n; ++c)
    cats.push_back(fmt::format("{} {}", paths[c], c));
  w.text("categoryIndex_places205.csv", join_lines(cats, true));
  std::vector<std::string> train, val;
  std::mt19937_64 names_rng(mix_seed(o.seed, kFiles));
  uint64_t index = 0;
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < k + v; ++i) {
      const std::string rel = fmt::format("{}/{}/gsun_{}.jpg", letter(paths[c]), display(paths[c]),
                                          random_letters(names_rng, 32, "0123456789abcdef", 16));
      Job j = w.job(c, 0, index++, true, o.size);
      j.image = rel;
      w.add(j);
      (i < k ? train : val).push_back(fmt::format("{} {}", rel, c));
    }
  }
  w.text("trainvalsplit_places205/train_places205.csv", join_lines(train, true));
  w.text("trainvalsplit_places205/val_places205.csv", join_lines(val, true));
  SynthResult result;
  result.class_names = names;
  result.split_sizes = {{"train", n * k}, {"val", n * v}};
  result.images = w.render(indoor);
  return result;
}

SynthResult write_sun397(const SynthOptions& o) {
  Writer w(o);
  auto [paths, names, indoor] = choose_places(w);
  const int n = static_cast<int>(paths.size()), k = o.per_class;
  w.text("ClassName.txt", join_lines(paths, true));
  // 2k images per class; each partition splits them k/k differently.
  std::vector<std::vector<std::string>> files(n);
  std::mt19937_64 names_rng(mix_seed(o.seed, kFiles));
  uint64_t index = 0;
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < 2 * k; ++i) {
      const std::string rel =
          fmt::format("{}/sun_{}.jpg", paths[c].substr(1),
                      random_letters(names_rng, 16, "abcdefghijklmnopqrstuvwxyz", 26));
      Job j = w.job(c, 0, index++, false, o.size);
      j.image = rel;
      w.add(j);
      files[c].push_back("/" + rel);
    }
  }
  for (int p = 1; p <= 10; ++p) {
    std::vector<std::string> train, test;
    for (int c = 0; c < n; ++c) {
      std::vector<std::string> f = files[c];
      std::mt19937_64 rng(mix_seed(o.seed, kSplit, static_cast<uint64_t>(p * 100000 + c)));
      for (size_t i = f.size(); i > 1; --i)
        std::swap(f[i - 1], f[uniform_index(rng, i)]);
      train.insert(train.end(), f.begin(), f.begin() + k);
      test.insert(test.end(), f.begin() + k, f.end());
    }
    w.text(fmt::format("Training_{:02d}.txt", p), join_lines(train, true));
    w.text(fmt::format("Testing_{:02d}.txt", p), join_lines(test, true));
  }
  SynthResult result;
  result.class_names = names;
  result.split_sizes = {{"train", n * k}, {"test", n * k}};
  result.images = w.render(indoor);
  return result;
}

SynthResult write_mit67(const SynthOptions& o) {
  Writer w(o);
  const auto& all = synth::mit67_classes();
  const auto idx = w.choose(all, false);
  std::vector<std::string> names;
  for (size_t i : idx)
    names.push_back(all[i]);
  const int n = static_cast<int>(names.size()), v = eval_count(o);
  std::vector<std::string> train, test;
  std::mt19937_64 rng(mix_seed(o.seed, kFiles));
  uint64_t index = 0;
  for (int c = 0; c < n; ++c) {
    const int total = o.per_class + v;
    // Like the real split, not exactly 80/20: one image more or less per class.
    const int n_train = std::clamp(o.per_class + static_cast<int>(uniform_index(rng, 3)) - 1, 1,
                                   std::max(1, total - 1));
    for (int i = 0; i < total; ++i) {
      std::string file;
      // The real names' quirks: spaces, apostrophes, doubled extensions.
      switch (i % 4) {
        case 0:
          file = fmt::format("{} view {}.jpg", names[c], i);
          break;
        case 1:
          file = fmt::format("{}'s_picture_{}.jpg.jpg", names[c], i);
          break;
        case 2:
          file = fmt::format("gsun_{}.jpg", random_letters(rng, 32, "0123456789abcdef", 16));
          break;
        default:
          file = fmt::format("int_{}.jpg", i);
          break;
      }
      Job j = w.job(c, 0, index++, false, o.size);
      j.image = fs::path("Images") / names[c] / file;
      w.add(j);
      (i < n_train ? train : test).push_back(names[c] + "/" + file);
    }
  }
  w.text("TrainImages.txt", join_lines(train, false));
  w.text("TestImages.txt", join_lines(test, false));
  SynthResult result;
  result.class_names = names;
  result.split_sizes = {{"train", static_cast<int64_t>(train.size())},
                        {"test", static_cast<int64_t>(test.size())}};
  result.images = w.render(std::vector<bool>(n, true));
  return result;
}

SynthResult write_ade20k(const SynthOptions& o) {
  Writer w(o);
  const auto& all = synth::ade_scene_names();
  const auto idx = w.choose(all, false);
  std::vector<std::string> names;
  std::vector<bool> indoor;
  for (size_t i : idx)
    names.push_back(all[i]), indoor.push_back(looks_indoor(all[i]));
  const int n = static_cast<int>(names.size()), k = o.per_class, v = eval_count(o);

  std::vector<std::string> rows = {"Idx,Ratio,Train,Val,Stuff,Name"};
  const auto& objects = synth::ade_objects();
  for (size_t i = 0; i < objects.size(); ++i) {
    const double r = std::pow(static_cast<double>(i + 1), 0.9);
    rows.push_back(fmt::format(
        "{},{:.4f},{},{},{},{}", i + 1, 0.1576 / r, static_cast<int>(11664 / std::sqrt(r)),
        static_cast<int>(1172 / std::sqrt(r)), objects[i].stuff ? 1 : 0, objects[i].name));
  }
  w.text("objectInfo150.csv", join_lines(rows, false));

  std::vector<std::string> scene_lines;
  const struct {
    const char* split;
    const char* dir;
    const char* prefix;
    int per_class;
  } splits[] = {{"train", "training", "ADE_train_", k},
                {"val", "validation", "ADE_val_", v},
                {"test", "testing", "ADE_test_", v}};
  SynthResult result;
  for (uint64_t s = 0; s < 3; ++s) {
    const auto& sp = splits[s];
    const auto labels = shuffled_labels(n, sp.per_class, mix_seed(o.seed, kOrder, s));
    const bool test = s == 2;
    for (size_t i = 0; i < labels.size(); ++i) {
      const std::string id = fmt::format("{}{:08d}", sp.prefix, i + 1);
      Job j = w.job(labels[i], s, i, false, o.size);
      j.image = test ? fs::path("release_test/testing") / (id + ".jpg")
                     : fs::path("images") / sp.dir / (id + ".jpg");
      if (!test) {
        j.mask = fs::path("annotations") / sp.dir / (id + ".png");
        scene_lines.push_back(fmt::format("{} {}", id, names[labels[i]]));
      }
      if (o.semantic_maps) {
        j.semantic_classes = fs::path("noisy_annotations_RGB") / sp.dir / (id + ".png");
        j.semantic_scores = fs::path("noisy_scores_RGB") / sp.dir / (id + ".png");
      }
      w.add(j);
    }
    result.split_sizes[sp.split] = static_cast<int64_t>(labels.size());
    if (test) result.test_labels = labels;
  }
  w.text("sceneCategories.txt", join_lines(scene_lines, true));
  result.class_names = names;
  result.images = w.render(indoor);
  return result;
}

}  // namespace

const std::vector<std::string>& synth_layouts() {
  static const std::vector<std::string> layouts = {"places365", "places365-easy", "places205",
                                                   "sun397",    "mit67",          "ade20k"};
  return layouts;
}

SynthDifficulty synth_difficulty(const std::string& name) {
  SynthDifficulty d;  // easy
  d.name = name;
  if (name == "easy") return d;
  if (name == "medium") {
    d.family_size = 2;
    d.colour_variation = 0.25, d.texture_variation = 0.2;
    d.scale_variation = 0.3, d.position_jitter = 0.1;
    d.distractor_probability = 0.6, d.max_distractors = 2;
    d.distractor_size_min = 0.06, d.distractor_size_max = 0.18;
    d.illumination = 0.25, d.colour_cast = 20, d.shading = 0.25, d.noise_scale = 1.5;
    return d;
  }
  if (name == "hard") {
    d.family_size = 3;
    d.look_alike_objects = true;
    d.families_share_semantics = true;
    d.colour_variation = 0.3, d.texture_variation = 0.1;
    d.scale_variation = 0.35, d.position_jitter = 0.12;
    d.distractor_probability = 0.8, d.max_distractors = 3;
    d.distractor_size_min = 0.06, d.distractor_size_max = 0.2;
    d.illumination = 0.3, d.colour_cast = 25, d.shading = 0.3, d.noise_scale = 2;
    return d;
  }
  throw UsageError(
      invalid_value_message("", "--difficulty", name, one_of(synth_difficulty_names())));
}

const std::vector<std::string>& synth_difficulty_names() {
  static const std::vector<std::string> names = {"easy", "medium", "hard"};
  return names;
}

int synth_eval_per_class(int per_class) {
  return std::max(1, per_class / 4);
}

SynthResult write_synthetic_dataset(const SynthOptions& o) {
  const auto& layouts = synth_layouts();
  if (std::find(layouts.begin(), layouts.end(), o.layout) == layouts.end()) {
    throw UsageError(invalid_value_message("", "--layout", o.layout, one_of(layouts)));
  }
  if (o.out.empty()) throw UsageError("--out is required: the folder to write the dataset into");
  if (o.per_class < 1)
    throw UsageError(fmt::format("--per-class {} out of range: expected >= 1", o.per_class));
  if (o.eval_per_class < 0)
    throw UsageError(fmt::format("--eval-per-class {} out of range: expected >= 1 (0 = default)",
                                 o.eval_per_class));
  if (o.size < 16 || o.size > 4096)
    throw UsageError(fmt::format("--size {} out of range: expected 16..4096", o.size));
  if (o.large && o.layout != "places365")
    throw UsageError("--large applies to the places365 layout only");
  if (o.semantic_maps && o.layout != "ade20k")
    throw UsageError("--semantic-maps applies to the ade20k layout only");
  ensure_writable_directory(o.out);
  if (o.layout == "places365") return write_places365(o, false);
  if (o.layout == "places365-easy") return write_places365(o, true);
  if (o.layout == "places205") return write_places205(o);
  if (o.layout == "sun397") return write_sun397(o);
  if (o.layout == "mit67") return write_mit67(o);
  return write_ade20k(o);
}

}  // namespace scenery::data
