#include "inspect/tools/predict_tool.h"

#include <fmt/core.h>
#include <tbb/parallel_for.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/sha256.h"
#include "data/catalog_readers.h"
#include "data/catalog_text.h"
#include "data/data_options.h"
#include "data/decode.h"
#include "distributed/launch.h"
#include "eval/semantic_provider.h"
#include "inspect/class_activation.h"
#include "inspect/inspect_inputs.h"
#include "inspect/predict_output.h"
#include "inspect/scene_predictor.h"
#include "models/checkpoint.h"
#include "models/registry.h"

namespace scenery::inspect {
namespace fs = std::filesystem;

namespace {

void add_predict_options(Config& c) {
  c.add<int>("inspect.top_k", 5, "classes reported per image", Bounds::at_least(1));
  c.add_choice("inspect.preprocess", "squash", predict_preprocess_choices().names(),
               "squash: Resize((S,S)) as run_placesCNN_unified.py; crop: Resize(256) + "
               "CenterCrop(S) as run_placesCNN_basic.py (S = the checkpoint's input size)");
  c.add<std::string>("inspect.categories", "",
                     "categories_places365.txt-style class names (default: the checkpoint's)");
  c.add<std::string>("inspect.io_labels", "",
                     "IO_places365.txt: the indoor/outdoor vote over the top-10 classes");
  c.add<std::string>("inspect.attribute_names", "", "labels_sunattribute.txt (102 names)");
  c.add<std::string>("inspect.attribute_weights", "",
                     "W_sceneattribute_wideresnet18.npy (names x features)");
  c.add<bool>("inspect.clamp_classifier", false,
              "probabilities from the classifier with negative weights set to 0, to reproduce "
              "run_placesCNN_unified.py's numbers (it clamps fc.weight in place before its "
              "forward); off: the network as trained, as run_placesCNN_basic.py");
  c.section("cam", "[cam] class activation maps");
  c.add<int>("cam.top", 1, "class activation maps for the best N classes (0: none)",
             Bounds::at_least(0));
  c.add<std::string>("cam.classes", "",
                     "also maps for these classes: comma-separated indices or names");
  c.add<bool>("cam.clamp_negative", true,
              "set negative classifier weights to 0, as the official demo; off: the CAM "
              "paper's plain w . F");
  c.add_choice("cam.format", "jpg", {"jpg", "png"}, "jpg (as the demo's cam.jpg) or png");
  c.add<double>("cam.box_fraction", 0.2,
                "localisation box: largest component above this fraction of the map's maximum",
                Bounds::within(0, 1));
  c.add<bool>("cam.draw_box", false, "draw the localisation box on the written maps");
}

std::vector<std::string> read_category_names(const fs::path& file) {
  const std::string text = data::read_text_file(file, "category file");
  data::LineReader lines(text);
  std::string_view line;
  std::vector<std::string> names;
  while (lines.next(line)) {
    line = data::trim_view(line);
    if (line.empty()) continue;
    std::string_view head = line, tail;
    data::split_last_token(line, head, tail);
    const auto display = data::category_display_name(head);
    names.emplace_back(display.empty() ? head : display);
  }
  return names;
}

std::vector<int64_t> parse_cam_classes(const std::string& text,
                                       const std::vector<std::string>& names) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const std::string v(data::trim_view(item));
    if (v.empty()) continue;
    int64_t index = 0;
    if (data::parse_index(v, index)) {
      out.push_back(index);
      continue;
    }
    const auto it = std::find(names.begin(), names.end(), v);
    if (it == names.end())
      throw ConfigError(
          fmt::format("cam.classes: '{}' is neither a class index nor a class name", v));
    out.push_back(it - names.begin());
  }
  return out;
}

}  // namespace

int run_predict_tool(const std::string& program, const std::vector<std::string>& args) {
  Config config(program,
                "top-k, indoor/outdoor, scene attributes and class activation maps of a scene "
                "classifier over an image, a folder or a dataset split");
  add_common_options(config);
  data::add_data_options(config);
  add_inspect_input_options(config, "inspect-out",
                            "predictions.jsonl, predictions.csv, predict.json and cam/");
  add_predict_options(config);
  if (auto code = parse_or_exit(config, args)) return *code;

  const fs::path out = config.get<std::string>("inspect.out");
  const std::string map_format = config.get<std::string>("cam.format");
  const int batch_size = config.get<int>("inspect.batch_size");

  InspectedModel inspected = load_inspected_model(config);
  models::SceneModel& model = inspected.model;
  const models::CheckpointMeta& model_meta = inspected.meta;
  const torch::Device device = inspected.device;
  const std::string& checkpoint_path = inspected.source;

  InspectInputs listed = list_inspect_inputs(config);
  const std::vector<InputImage>& inputs = listed.images;
  const std::vector<std::string>& dataset_classes = listed.class_names;

  PredictVocabulary vocab;
  vocab.classes = model_meta.class_names;
  if (!config.get<std::string>("inspect.categories").empty())
    vocab.classes = read_category_names(config.get<std::string>("inspect.categories"));
  else if (vocab.classes.empty())
    vocab.classes = dataset_classes;
  if (!vocab.classes.empty() && static_cast<int64_t>(vocab.classes.size()) != model.num_classes()) {
    throw DataError(fmt::format("{} class names, but {} has {} classes", vocab.classes.size(),
                                checkpoint_path, model.num_classes()));
  }

  PredictOptions options;
  options.top_k = config.get<int>("inspect.top_k");
  options.preprocess = parse_predict_preprocess(config.get<std::string>("inspect.preprocess"));
  options.input_size = inspect_input_size(config, model_meta);
  // crop keeps Resize(256) + CenterCrop(224)'s proportion at other sizes.
  options.resize = options.input_size * 256 / 224;
  options.normalize = eval::checkpoint_normalization(model_meta);
  options.cam_top = config.get<int>("cam.top");
  options.cam_classes = parse_cam_classes(config.get<std::string>("cam.classes"), vocab.classes);
  options.clamp_negative = config.get<bool>("cam.clamp_negative");
  options.clamp_classifier = config.get<bool>("inspect.clamp_classifier");
  options.box_fraction = config.get<double>("cam.box_fraction");
  if (!config.get<std::string>("inspect.io_labels").empty()) {
    options.indoor_outdoor =
        read_indoor_outdoor(config.get<std::string>("inspect.io_labels"), model.num_classes());
  }
  const std::string attribute_names = config.get<std::string>("inspect.attribute_names");
  const std::string attribute_weights = config.get<std::string>("inspect.attribute_weights");
  if (attribute_names.empty() != attribute_weights.empty()) {
    throw UsageError(
        "scene attributes need both --inspect.attribute_names and --inspect.attribute_weights");
  }
  if (!attribute_names.empty()) {
    model.pooled_classifier();  // a clear error for a model without pooled features
    options.attributes = read_scene_attributes(attribute_names, attribute_weights,
                                               model.pooled_classifier_weight().size(1));
    vocab.attributes = options.attributes->names;
  }
  ScenePredictor predictor(model, options, device);
  const bool draw_box = config.get<bool>("cam.draw_box");
  const int64_t max_pixels = config.get<int64_t>("data.max_image_pixels");

  config.write_resolved(out);
  std::ofstream jsonl(out / "predictions.jsonl"), csv(out / "predictions.csv");
  const int top_k = predictor.options().top_k;
  const bool with_io = options.indoor_outdoor.has_value();
  const bool with_attributes = options.attributes.has_value();
  csv << prediction_csv_header(top_k, with_io, with_attributes);

  int64_t written = 0, skipped = 0, correct1 = 0, correct5 = 0, labelled = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < inputs.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(inputs.size(), begin + static_cast<size_t>(batch_size));
    std::vector<fs::path> files;
    for (size_t i = begin; i < end; ++i)
      files.push_back(inputs[i].file);
    DecodedBatch decoded = decode_batch(predictor, files, max_pixels);
    for (const auto& [i, why] : decoded.failures) {
      log::warn("skipped {}: {}", files[i].string(), why);
      ++skipped;
    }
    if (decoded.kept.empty()) continue;
    auto predictions = predictor.predict(decoded.inputs, decoded.sizes);
    std::vector<PredictedImage> rows(decoded.kept.size());
    tbb::parallel_for(size_t{0}, rows.size(), [&](size_t k) {
      const InputImage& input = inputs[begin + decoded.kept[k]];
      PredictedImage& row = rows[k];
      row.name = input.name;
      row.label = input.label;
      row.prediction = std::move(predictions[k]);
      if (row.prediction.activations.empty()) return;
      for (const auto& a : row.prediction.activations) {
        const std::string class_name = a.class_index < static_cast<int64_t>(vocab.classes.size())
                                           ? vocab.classes[static_cast<size_t>(a.class_index)]
                                           : fmt::format("class_{}", a.class_index);
        const fs::path rel = map_file_name(input.name, a.class_index, class_name, map_format);
        const cv::Mat rendered = render_activation_picture(decoded.images[k], a, draw_box);
        fs::create_directories((out / rel).parent_path());
        if (!cv::imwrite((out / rel).string(), rendered))
          throw IoError(fmt::format("cannot write {}", (out / rel).string()));
        row.map_files.push_back(rel.generic_string());
      }
    });
    for (const auto& row : rows) {
      jsonl << prediction_json_line(row, vocab);
      csv << prediction_csv_row(row, vocab, top_k, with_io, with_attributes);
      if (row.label >= 0) {
        ++labelled;
        const auto& top = row.prediction.top_classes;
        correct1 += !top.empty() && top[0] == row.label;
        correct5 += std::find(top.begin(), top.begin() + std::min<size_t>(5, top.size()),
                              row.label) != top.begin() + std::min<size_t>(5, top.size());
      }
    }
    written += static_cast<int64_t>(rows.size());
    // About ten progress lines per run, not one per batch.
    const size_t step = std::max<size_t>(1, inputs.size() / 10);
    if (end == inputs.size() || end / step != begin / step)
      log::info("{}/{} images", end, inputs.size());
  }
  jsonl.flush();
  csv.flush();
  if (!jsonl || !csv)
    throw IoError(fmt::format("cannot write the predictions in {}", out.string()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  JsonWriter meta;
  meta.begin_object();
  meta.value("checkpoint", checkpoint_path);
  meta.value("checkpoint_sha256",
             inspected.checkpoint.empty() ? std::string() : sha256_file(inspected.checkpoint));
  meta.value("arch", inspected.meta.arch);
  meta.value("preprocess", predict_preprocess_name(options.preprocess));
  meta.value("input_size", int64_t{options.input_size});
  meta.value("feature_layer",
             model.has_pooled_classifier() ? model.pooled_classifier().feature_layer : "");
  meta.value("cam_clamp_negative", options.clamp_negative);
  meta.value("clamp_classifier", options.clamp_classifier);
  meta.value("images", written);
  meta.value("skipped", skipped);
  meta.value("seconds", seconds);
  meta.value("images_per_second", seconds > 0 ? static_cast<double>(written) / seconds : 0.0);
  if (labelled > 0) {
    meta.value("top1", static_cast<double>(correct1) / static_cast<double>(labelled));
    meta.value("top5", static_cast<double>(correct5) / static_cast<double>(labelled));
  }
  meta.end_object();
  write_file_atomic(out / "predict.json", meta.str());

  fmt::print("images {} ({:.1f} images/s){}\n", written,
             seconds > 0 ? static_cast<double>(written) / seconds : 0.0,
             skipped ? fmt::format(", skipped {} unreadable", skipped) : "");
  if (labelled > 0) {
    fmt::print("top-1 {:.4f}\ntop-5 {:.4f}\n",
               static_cast<double>(correct1) / static_cast<double>(labelled),
               static_cast<double>(correct5) / static_cast<double>(labelled));
  }
  fmt::print("predictions {}\n", (out / "predictions.jsonl").string());
  return 0;
}

}  // namespace scenery::inspect
