// How `scenery-inspect predict` writes what it found: one JSON object per
// image (predictions.jsonl), the same as a CSV row (predictions.csv), and the
// file names of the class activation maps.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "inspect/places_annotations.h"
#include "inspect/scene_predictor.h"

namespace scenery::inspect {

struct PredictedImage {
  std::string name;    // the image's path relative to its folder or dataset root
  int64_t label = -1;  // ground truth, -1 when unknown
  ImagePrediction prediction;
  std::vector<std::string> map_files;  // per activation, relative to the output folder
};

struct PredictVocabulary {
  std::vector<std::string> classes;     // one per model class
  std::vector<std::string> attributes;  // SUN attribute names (may be empty)
};

// "cam/<name without extension>.<class index>-<class name, '/' as '-'>.<ext>".
std::filesystem::path map_file_name(const std::string& image_name, int64_t class_index,
                                    const std::string& class_name, const std::string& ext);

std::string prediction_json_line(const PredictedImage& image, const PredictVocabulary& vocab);

std::string prediction_csv_header(int top_k, bool with_io, bool with_attributes);
std::string prediction_csv_row(const PredictedImage& image, const PredictVocabulary& vocab,
                               int top_k, bool with_io, bool with_attributes);

}  // namespace scenery::inspect
