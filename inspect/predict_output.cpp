#include "inspect/predict_output.h"

#include <fmt/core.h>

#include "core/csv_text.h"
#include "core/json_writer.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

namespace {

std::string label_name(const PredictVocabulary& vocab, int64_t c) {
  return c >= 0 && c < static_cast<int64_t>(vocab.classes.size())
             ? vocab.classes[static_cast<size_t>(c)]
             : fmt::format("class_{}", c);
}

}  // namespace

fs::path map_file_name(const std::string& image_name, int64_t class_index,
                       const std::string& class_name, const std::string& ext) {
  std::string safe = class_name;
  for (char& c : safe) {
    if (c == '/' || c == '\\' || c == ' ' || c == ':') c = '-';
  }
  // Only the relative parts of the name: a list file's "/a/abbey/1.jpg" or a
  // "../x.jpg" must not lead the map out of the output folder.
  fs::path stem;
  for (const auto& part : fs::path(image_name).relative_path()) {
    if (part != ".." && part != ".") stem /= part;
  }
  stem.replace_extension();
  return fs::path("cam") / stem.concat(fmt::format(".{}-{}.{}", class_index, safe, ext));
}

std::string prediction_json_line(const PredictedImage& image, const PredictVocabulary& vocab) {
  const ImagePrediction& p = image.prediction;
  JsonWriter j(/*pretty=*/false);
  j.begin_object();
  j.value("image", image.name);
  if (image.label >= 0) {
    j.value("label", image.label);
    j.value("label_name", label_name(vocab, image.label));
  }
  j.begin_array("top");
  for (size_t i = 0; i < p.top_classes.size(); ++i) {
    j.begin_object();
    j.value("class", p.top_classes[i]);
    j.value("name", label_name(vocab, p.top_classes[i]));
    j.value("probability", static_cast<double>(p.top_probabilities[i]));
    j.end_object();
  }
  j.end_array();
  if (p.indoor_outdoor) {
    j.begin_object("environment");
    j.value("type", p.indoor_outdoor->indoor ? "indoor" : "outdoor");
    j.value("score", p.indoor_outdoor->score);
    j.end_object();
  }
  if (!p.attributes.empty()) {
    j.begin_array("attributes");
    for (int64_t a : p.attributes)
      j.element(vocab.attributes.at(static_cast<size_t>(a)));
    j.end_array();
  }
  if (!p.activations.empty()) {
    j.begin_array("cams");
    for (size_t i = 0; i < p.activations.size(); ++i) {
      const auto& a = p.activations[i];
      j.begin_object();
      j.value("class", a.class_index);
      j.value("name", label_name(vocab, a.class_index));
      if (i < image.map_files.size()) j.value("file", image.map_files[i]);
      // [x, y, width, height] in image pixels; empty for a map that is zero everywhere.
      j.value("box", std::vector<double>{static_cast<double>(a.box.x), static_cast<double>(a.box.y),
                                         static_cast<double>(a.box.width),
                                         static_cast<double>(a.box.height)});
      j.end_object();
    }
    j.end_array();
  }
  j.end_object();
  return j.str();
}

std::string prediction_csv_header(int top_k, bool with_io, bool with_attributes) {
  std::string h = "image,label";
  for (int i = 1; i <= top_k; ++i)
    h += fmt::format(",class{0},name{0},probability{0}", i);
  if (with_io) h += ",environment,io_score";
  if (with_attributes) h += ",attributes";
  return h + ",cam_files,cam_boxes\n";
}

std::string prediction_csv_row(const PredictedImage& image, const PredictVocabulary& vocab,
                               int top_k, bool with_io, bool with_attributes) {
  const ImagePrediction& p = image.prediction;
  std::string row = csv_field(image.name) + "," +
                    (image.label >= 0 ? csv_field(label_name(vocab, image.label)) : "");
  for (int i = 0; i < top_k; ++i) {
    if (i < static_cast<int>(p.top_classes.size())) {
      row += fmt::format(",{},{},{:.6f}", p.top_classes[static_cast<size_t>(i)],
                         csv_field(label_name(vocab, p.top_classes[static_cast<size_t>(i)])),
                         p.top_probabilities[static_cast<size_t>(i)]);
    } else {
      row += ",,,";
    }
  }
  if (with_io) {
    row += p.indoor_outdoor
               ? fmt::format(",{},{:.2f}", p.indoor_outdoor->indoor ? "indoor" : "outdoor",
                             p.indoor_outdoor->score)
               : ",,";
  }
  if (with_attributes) {
    std::string names;
    for (int64_t a : p.attributes)
      names += (names.empty() ? "" : ";") + vocab.attributes.at(static_cast<size_t>(a));
    row += "," + csv_field(names);
  }
  std::string files, boxes;
  for (size_t i = 0; i < p.activations.size(); ++i) {
    const auto& b = p.activations[i].box;
    if (i < image.map_files.size()) files += (files.empty() ? "" : ";") + image.map_files[i];
    boxes += fmt::format("{}{} {} {} {}", boxes.empty() ? "" : ";", b.x, b.y, b.width, b.height);
  }
  return row + "," + csv_field(files) + "," + csv_field(boxes) + "\n";
}

}  // namespace scenery::inspect
