// What an evaluation leaves behind in its output folder: results.json
// (metrics, counts and the exact protocol), per_class.csv, and for scene
// recognition the confusion matrix as confusion.csv and confusion.png.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "eval/evaluator.h"

namespace scenery::eval {

// How the numbers were obtained, recorded next to them.
struct EvalContext {
  std::string arch;
  std::string checkpoint;         // path as given
  std::string checkpoint_sha256;  // of the file's bytes
  std::string dataset, root, split;
  std::string crop;  // "center", "ten" or "whole image"
  int resize = 256;  // shorter side before cropping
  int crop_size = 224;
  std::vector<double> mean, std;
  std::vector<double> scales;     // parsing
  bool flip = false;              // parsing
  std::string branches = "both";  // two-branch network
  std::string semantic;           // two-branch: masks, top3 or "parsing <checkpoint>"
};

void write_scene_report(const std::filesystem::path& dir, const SceneEvalResult& result,
                        const std::vector<std::string>& class_names, const EvalContext& context);

void write_parsing_report(const std::filesystem::path& dir, const ParsingEvalResult& result,
                          const std::vector<std::string>& class_names, const EvalContext& context);

// Row-normalised confusion matrix as a heat map (rows: truth, columns:
// prediction), with class names along the rows when there are few enough to
// read: an 8-bit BGR picture, and the same written as a PNG file.
cv::Mat confusion_picture(const ClassificationMeter& meter,
                          const std::vector<std::string>& class_names);
void write_confusion_png(const std::filesystem::path& file, const ClassificationMeter& meter,
                         const std::vector<std::string>& class_names);

}  // namespace scenery::eval
