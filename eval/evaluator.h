// Running a model over a dataset split and accumulating the official metrics.
//
// Scene recognition (classifiers and the two-branch network): the loader's
// eval protocol, Resize(shorter side) + CenterCrop, or TenCrop with the logits
// of the 10 crops averaged (FORMATS.md). Scene parsing: whole images at their
// own size, optionally at several scales and mirrored, class probabilities
// averaged at the original resolution, prediction = argmax + 1 (1..150).
// Memory does not grow with the dataset: only meters and (when asked) the
// top-5 rows of a submission are kept.
#pragma once

#include <filesystem>
#include <optional>

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/loader.h"
#include "eval/classification_meter.h"
#include "eval/places_submission.h"
#include "eval/segmentation_meter.h"
#include "eval/semantic_provider.h"
#include "models/scene_model.h"

namespace scenery::eval {

struct SceneEvalResult {
  std::optional<ClassificationMeter> meter;  // absent for unlabelled (test) splits
  int64_t images = 0;
  int64_t skipped = 0;  // unreadable images skipped under data.on_error = skip
};

// `loader` options decide the protocol (kEval or kTenCrop, semantic maps from
// the dataset for the two-branch net) and the shard (rank, world_size);
// `semantic` may compute the maps instead. The result covers this shard only.
// When `submission` is given, every image's scores are added to it under its
// file name.
SceneEvalResult evaluate_scenes(models::SceneModel& model, const data::Catalog& catalog,
                                const data::LoaderOptions& loader,
                                PlacesSubmissionWriter* submission = nullptr,
                                models::Branches branches = models::Branches::kBoth,
                                const SemanticProvider& semantic = {});

struct ParsingProtocol {
  std::vector<double> scales{1.0};  // multiples of the original size
  bool flip = false;                // also average the mirrored image
  data::NormalizeParams normalize;
  int num_classes = 150;
  int rank = 0, world_size = 1;  // data parallel: images rank, rank + W, ... (no padding)
  int64_t max_image_pixels = data::kDefaultMaxImagePixels;  // data.max_image_pixels
  int examples = 0;  // this many of the shard's first images pictured (eval.examples)
};

struct ParsingEvalResult {
  std::optional<SegmentationMeter> meter;  // absent for unlabelled (test) splits
  int64_t images = 0;
  std::vector<cv::Mat> examples;  // parsing_strip() of the first protocol.examples images
};

// When `submission_dir` is not empty, one PNG per image (same base name) is
// written there.
ParsingEvalResult evaluate_parsing(models::SceneModel& model, const data::Catalog& catalog,
                                   const ParsingProtocol& protocol,
                                   const std::filesystem::path& submission_dir = {});

// Per-pixel class probabilities [C, H, W] of one RGB image, averaged over the
// protocol's scales and flips, at the image's own size.
torch::Tensor parse_image(models::SceneModel& model, const cv::Mat& rgb,
                          const ParsingProtocol& protocol);

}  // namespace scenery::eval
