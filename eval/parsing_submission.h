// The ADE20K scene-parsing submission: one 8-bit single-channel PNG per test
// image, same base name (`ADE_test_00000001.png`), values 1..150 at the
// original image size, zipped; and the scorer that reads such a folder back
// against an annotation folder, matching files by name like the devkit.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "eval/segmentation_meter.h"

namespace scenery::eval {

// Writes `labels` ([H, W] integer, values 1..num_classes) as `<dir>/<stem>.png`.
// Throws EvalError for a value outside 1..num_classes (the submission format
// has no "unlabelled" prediction).
std::filesystem::path write_parsing_png(const std::filesystem::path& dir, const std::string& stem,
                                        const torch::Tensor& labels, int num_classes = 150);

// Zips every .png in `dir` (sorted by name) into `archive`.
void zip_parsing_submission(const std::filesystem::path& dir, const std::filesystem::path& archive);

// Scores every annotation PNG in `annotations` against the PNG of the same name
// in `predictions`. Rejects, naming the file: missing or extra predictions,
// unreadable PNGs, a PNG that is not 8-bit single-channel, a size different
// from the annotation, values above num_classes. A predicted 0 counts as wrong.
SegmentationMeter score_parsing_folder(const std::filesystem::path& predictions,
                                       const std::filesystem::path& annotations,
                                       int num_classes = 150);

}  // namespace scenery::eval
