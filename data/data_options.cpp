#include "data/data_options.h"

#include <fmt/core.h>

#include "core/error.h"
#include "data/image_header.h"

#include <stdexcept>

namespace scenery::data {

void add_data_options(Config& c) {
  c.add<std::string>("data.dataset", "places365",
                     "layout: places365, places365-easy, places205, sun397, mit67, ade20k, "
                     "folder, list");
  c.add<std::string>("data.root", "", "dataset root folder (the extracted official archive)");
  c.add<std::string>("data.split", "train", "split: train, val or test");
  c.add<int>("data.partition", 1, "SUN397 partition 1..10 (Training_NN / Testing_NN)");
  c.add<bool>("data.large", false,
              "places365: read the high-resolution data_large/val_large/test_large folders");
  c.add<std::string>("data.list", "",
                     "list: file of '<path> <label>' lines, relative to data.root "
                     "(default <split>.txt)");
  c.add<std::string>("data.class_file", "",
                     "list: optional file of class names, one per line (line = label)");
  c.add<bool>("data.semantic_maps", true,
              "ade20k: use noisy_annotations_RGB/noisy_scores_RGB when present");
  c.add<int>("data.batch_size", 32, "images per batch (per rank)");
  c.add<int>("data.workers", 2, "decode/transform threads");
  c.add<int>("data.prefetch", 4, "batches prepared ahead of the consumer");
  c.add<int64_t>("data.seed", 0, "seed of shuffling and random augmentation");
  c.add<std::string>("data.on_error", "skip",
                     "unreadable image: skip (counted warning) or fail (stop naming the file)");
  c.add<int64_t>("data.max_image_pixels", kDefaultMaxImagePixels,
                 "refuse images whose header declares more pixels (decompression bombs; "
                 "Pillow's limit by default), 0 = no limit");
  // Augmentations (training only), off or torchvision's defaults, so the
  // official recipes stay exact; each follows its torchvision transform.
  c.add<std::string>("data.crop_scale", "0.08,1",
                     "RandomResizedCrop: area fraction range 'lo,hi' (fractions like 3/4 allowed)");
  c.add<std::string>("data.crop_ratio", "3/4,4/3", "RandomResizedCrop: aspect ratio range 'lo,hi'");
  c.add<double>("data.brightness", 0, "ColorJitter brightness (factor in [1-x, 1+x]); 0 = off");
  c.add<double>("data.contrast", 0, "ColorJitter contrast; 0 = off");
  c.add<double>("data.saturation", 0, "ColorJitter saturation; 0 = off");
  c.add<double>("data.hue", 0, "ColorJitter hue (shift in [-x, x], x <= 0.5); 0 = off");
  c.add<double>("data.random_erasing", 0,
                "RandomErasing probability (after normalisation, value 0); 0 = off");
  c.add<std::string>("data.erasing_scale", "0.02,0.33", "RandomErasing area fraction range");
  c.add<std::string>("data.erasing_ratio", "0.3,3.3", "RandomErasing aspect ratio (h/w) range");
  c.add<int>("data.image_size", 224, "crop size fed to the network");
  c.add<int>("data.resize", 256, "eval: shorter side resized to this before the centre crop");
}

int64_t max_image_pixels_from_config(const Config& c) {
  const auto v = c.get<int64_t>("data.max_image_pixels");
  if (v < 0)
    throw ConfigError(fmt::format(
        "data.max_image_pixels: expected 0 (no limit) or a positive pixel count, got {}", v));
  return v;
}

std::pair<double, double> range_from_config(const Config& c, const std::string& key, double lo,
                                            double hi) {
  const auto text = c.get<std::string>(key);
  auto number = [&](std::string part) {
    const auto slash = part.find('/');
    try {
      size_t used = 0;
      if (slash == std::string::npos) {
        const double v = std::stod(part, &used);
        if (used != part.size()) throw std::invalid_argument(part);
        return v;
      }
      size_t u1 = 0, u2 = 0;
      const std::string num = part.substr(0, slash), den = part.substr(slash + 1);
      const double v = std::stod(num, &u1) / std::stod(den, &u2);
      if (u1 != num.size() || u2 != den.size()) throw std::invalid_argument(part);
      return v;
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("{}: '{}' is not a number (in '{}')", key, part, text));
    }
  };
  const auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    throw ConfigError(fmt::format("{}: expected 'lo,hi', got '{}'", key, text));
  const double a = number(text.substr(0, comma)), b = number(text.substr(comma + 1));
  if (!(a <= b) || a < lo || b > hi)
    throw ConfigError(
        fmt::format("{}: expected {} <= lo <= hi <= {}, got '{}'", key, lo, hi, text));
  return {a, b};
}

}  // namespace scenery::data
