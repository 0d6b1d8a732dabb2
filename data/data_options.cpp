#include "data/data_options.h"

#include <fmt/core.h>

#include "data/catalog_readers.h"

namespace scenery::data {

namespace {

// A 'lo,hi' default written from the parameter structs, so the numbers live there only.
std::string range_text(double lo, double hi) {
  return fmt::format("{},{}", lo, hi);
}

std::pair<double, double> range_of(const Config& c, const std::string& key) {
  const auto v = c.get_list<double>(key);
  return {v.at(0), v.at(1)};
}

void add_catalog_options(Config& c) {
  c.add_choice("data.dataset", "places365", catalog_datasets(),
               "layout: places365, places365-easy, places205, sun397, mit67, ade20k, folder, list, "
               "webdataset (tar shards)");
  c.add<std::string>("data.root", "", "dataset root folder (the extracted official archive)");
  c.add<std::string>("data.split", "train", "split: train, val or test");
  c.add<int>("data.partition", 1, "SUN397 partition 1..10 (Training_NN / Testing_NN)",
             Bounds::within(1, 10));
  c.add<bool>("data.large", false,
              "places365: read the high-resolution data_large/val_large/test_large folders");
  c.add<std::string>("data.list", "",
                     "list: file of '<path> <label>' lines, relative to data.root "
                     "(default <split>.txt)");
  c.add<std::string>("data.class_file", "",
                     "list: optional file of class names, one per line (line = label)");
  c.add<std::string>("data.shards", "",
                     "webdataset: shard files under data.root: brace ranges "
                     "'train-{000000..000127}.tar', comma lists, globs (default <split>-*.tar)");
  c.add<bool>("data.semantic_maps", true,
              "ade20k: use noisy_annotations_RGB/noisy_scores_RGB when present");
}

void add_loading_options(Config& c) {
  const LoaderOptions d;
  c.add<int>("data.batch_size", static_cast<int>(d.batch_size), "images per batch (per rank)",
             Bounds::at_least(1));
  c.add<int>("data.workers", d.workers, "decode/transform threads", Bounds::at_least(1));
  c.add<int>("data.prefetch", d.prefetch, "batches prepared ahead of the consumer",
             Bounds::at_least(1));
  c.add<int64_t>("data.seed", static_cast<int64_t>(d.seed),
                 "seed of shuffling and random augmentation");
  c.add<int64_t>("data.shuffle_block", -1,
                 fmt::format("shuffle consecutive samples in blocks of this many (sequential "
                             "reads), 0 = a full permutation, -1 = {} for webdataset, 0 otherwise",
                             kShardShuffleBlock),
                 Bounds::at_least(-1));
  c.add<int64_t>("data.shuffle_window", kShardShuffleWindow,
                 "with block shuffling: positions shuffled together after the blocks "
                 "(a seeded shuffle buffer)",
                 Bounds::at_least(1));
  c.add_choice("data.on_error", on_error_choices().name_of(d.on_error), on_error_choices().names(),
               "unreadable image: skip (counted warning) or fail (stop naming the file)");
  c.add<int64_t>("data.max_image_pixels", d.max_image_pixels,
                 "refuse images whose header declares more pixels (decompression bombs; "
                 "Pillow's limit by default), 0 = no limit",
                 Bounds::at_least(0));
  c.add<int>("data.image_size", d.train.crop.size, "crop size fed to the network",
             Bounds::at_least(1));
  c.add<int>("data.resize", d.eval.resize,
             "eval: shorter side resized to this before the centre crop", Bounds::at_least(1));
}

// Augmentations (training only), off or torchvision's defaults, so the
// official recipes stay exact; each follows its torchvision transform.
void add_augmentation_options(Config& c) {
  const TrainTransformParams d;
  const auto fraction = ListRule::range(Bounds::within(1e-6, 1.0));
  const auto ratio = ListRule::range(Bounds::within(1e-3, 1e3));
  c.add_list<double>("data.crop_scale", range_text(d.crop.scale_min, d.crop.scale_max),
                     "RandomResizedCrop: area fraction range 'lo,hi' (fractions like 3/4 allowed)",
                     fraction);
  c.add_list<double>("data.crop_ratio", range_text(d.crop.ratio_min, d.crop.ratio_max),
                     "RandomResizedCrop: aspect ratio range 'lo,hi'", ratio);
  const auto factor = Bounds::within(0, 1e3);
  c.add<double>("data.brightness", d.jitter.brightness,
                "ColorJitter brightness (factor in [1-x, 1+x]); 0 = off", factor);
  c.add<double>("data.contrast", d.jitter.contrast, "ColorJitter contrast; 0 = off", factor);
  c.add<double>("data.saturation", d.jitter.saturation, "ColorJitter saturation; 0 = off", factor);
  c.add<double>("data.hue", d.jitter.hue, "ColorJitter hue (shift in [-x, x]); 0 = off",
                Bounds::within(0, 0.5));
  c.add<double>("data.random_erasing", d.erasing.probability,
                "RandomErasing probability (after normalisation, value 0); 0 = off",
                Bounds::within(0, 1));
  c.add_list<double>("data.erasing_scale", range_text(d.erasing.scale_min, d.erasing.scale_max),
                     "RandomErasing area fraction range", fraction);
  c.add_list<double>("data.erasing_ratio", range_text(d.erasing.ratio_min, d.erasing.ratio_max),
                     "RandomErasing aspect ratio (h/w) range", ratio);
}

}  // namespace

void add_data_options(Config& c) {
  c.section("data", "[data] datasets, decoding and loading");
  add_catalog_options(c);
  add_loading_options(c);
  add_augmentation_options(c);
}

const Choices<OnError>& on_error_choices() {
  static const Choices<OnError> choices{{"skip", OnError::kSkip}, {"fail", OnError::kFail}};
  return choices;
}

OnError parse_on_error(const std::string& name) {
  return on_error_choices().at("data.on_error", name);
}

LoaderOptions loader_options_from_config(const Config& c, bool train) {
  LoaderOptions o;
  o.batch_size = c.get<int>("data.batch_size");
  o.workers = c.get<int>("data.workers");
  o.prefetch = c.get<int>("data.prefetch");
  o.seed = static_cast<uint64_t>(c.get<int64_t>("data.seed"));
  const int64_t block = c.get<int64_t>("data.shuffle_block");
  o.shuffle_block =
      block >= 0 ? block
                 : (c.get<std::string>("data.dataset") == "webdataset" ? kShardShuffleBlock : 0);
  o.shuffle_window = c.get<int64_t>("data.shuffle_window");
  o.on_error = parse_on_error(c.get<std::string>("data.on_error"));
  o.max_image_pixels = c.get<int64_t>("data.max_image_pixels");
  const int image_size = c.get<int>("data.image_size");
  o.train.crop.size = image_size;
  if (train) {
    auto& crop = o.train.crop;
    std::tie(crop.scale_min, crop.scale_max) = range_of(c, "data.crop_scale");
    std::tie(crop.ratio_min, crop.ratio_max) = range_of(c, "data.crop_ratio");
    o.train.jitter = {c.get<double>("data.brightness"), c.get<double>("data.contrast"),
                      c.get<double>("data.saturation"), c.get<double>("data.hue")};
    auto& erasing = o.train.erasing;
    erasing.probability = c.get<double>("data.random_erasing");
    std::tie(erasing.scale_min, erasing.scale_max) = range_of(c, "data.erasing_scale");
    std::tie(erasing.ratio_min, erasing.ratio_max) = range_of(c, "data.erasing_ratio");
  }
  o.eval.crop = image_size;
  o.eval.resize = c.get<int>("data.resize");
  o.mode = train ? LoaderMode::kTrain : LoaderMode::kEval;
  o.shuffle = train;
  return o;
}

}  // namespace scenery::data
