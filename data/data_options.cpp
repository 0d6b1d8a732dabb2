#include "data/data_options.h"

#include <fmt/core.h>

#include "core/error.h"
#include "data/image_header.h"

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

}  // namespace scenery::data
