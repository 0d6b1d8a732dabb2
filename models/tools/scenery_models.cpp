// scenery-models: the architectures the registry knows, and turning Caffe
// Places-CNN weights into a Scenery checkpoint.
#include <fmt/core.h>

#include <fstream>
#include <sstream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/main_guard.h"
#include "models/caffe_import.h"
#include "models/checkpoint.h"
#include "models/cpu_kernels.h"
#include "models/keras_import.h"
#include "models/registry.h"

namespace {

namespace models = scenery::models;
using scenery::ConfigError;

int run_list(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "list the architectures (model.arch) with parameter counts");
  scenery::add_common_options(config);
  config.add<int>("num-classes", 365, "classes of the counted models",
                  scenery::Bounds::at_least(1));
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  const int classes = config.get<int>("num-classes");
  fmt::print("{:<30} {:<11} {:>13}  {}\n", "arch", "kind", "parameters", "");
  for (const auto& name : models::model_registry().names()) {
    const auto model = models::create_model(name, classes);
    int64_t n = 0;
    for (const auto& p : model.named_parameters())
      n += p.value().numel();
    fmt::print("{:<30} {:<11} {:>13}  {}\n", name, models::model_kind_name(model.kind()), n,
               models::model_registry().entry(name).summary);
  }
  return 0;
}

// --mean-bgr, declared as exactly three numbers: the schema has checked them.
std::array<double, 3> mean_bgr(const scenery::Config& config) {
  const auto v = config.get_list<double>("mean-bgr");
  return {v.at(0), v.at(1), v.at(2)};
}

// One class name per non-empty line, the first word (categories_places365.txt
// lines are "/a/airfield 0").
std::vector<std::string> read_class_names(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw scenery::IoError(fmt::format("{}: cannot read", file));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream words(line);
    std::string first;
    if (words >> first) names.push_back(first);
  }
  return names;
}

int run_import_caffe(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "convert Caffe Places-CNN weights into a Scenery checkpoint");
  scenery::add_common_options(config);
  config.add<std::string>("arch", "caffenet",
                          "caffenet (the Places205/365 AlexNet), vgg16, googlenet_places (the "
                          "Places205/365 GoogLeNet), or a torchvision-shaped alexnet");
  config.add<std::string>("prototxt", "", "the deploy .prototxt");
  config.add<std::string>("caffemodel", "", "the .caffemodel weights");
  config.add<int>("num-classes", 365, "classes of the model's last layer",
                  scenery::Bounds::at_least(1));
  config.add_list<double>("mean-bgr", "104,117,123",
                          "per-channel mean the Caffe model subtracts from 0..255 BGR pixels "
                          "(take it from the model's mean file)",
                          scenery::ListRule::exactly(3));
  config.add<int>("input-size", 224, "crop size stored in the checkpoint (caffenet: 227 or 224)");
  config.add<std::string>("categories", "", "optional class names, one per line (first word)");
  config.add<std::string>("out", "", "checkpoint to write");
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  for (const char* key : {"prototxt", "caffemodel", "out"}) {
    if (config.get<std::string>(key).empty())
      throw ConfigError(fmt::format("--{} is required", key));
  }
  const int classes = config.get<int>("num-classes");
  models::SceneModel model = models::create_model(config.get<std::string>("arch"), classes);
  const auto report = models::import_caffe_weights(model, config.get<std::string>("prototxt"),
                                                   config.get<std::string>("caffemodel"));
  models::CheckpointMeta meta;
  models::caffe_input_normalization(mean_bgr(config), meta);
  meta.input_size = config.get<int>("input-size");
  if (const auto file = config.get<std::string>("categories"); !file.empty()) {
    meta.class_names = read_class_names(file);
    if (static_cast<int>(meta.class_names.size()) != classes) {
      throw ConfigError(fmt::format("{}: {} class names, but the model has {} classes", file,
                                    meta.class_names.size(), classes));
    }
  }
  const std::string out = config.get<std::string>("out");
  models::save_checkpoint(out, model, meta);
  scenery::log::info(
      "wrote {} ({}, {} classes, {} tensors from Caffe); evaluate it with "
      "scenery-eval run --eval.checkpoint {}",
      out, model.arch(), classes, report.loaded.size(), out);
  return 0;
}

int run_import_keras(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program,
                         "convert the Keras VGG16-Places365 / VGG16-Hybrid1365 .h5 weights into "
                         "a Scenery vgg16 checkpoint");
  scenery::add_common_options(config);
  config.add<std::string>("h5", "", "the Keras weights (save_weights or a whole-model save)");
  config.add_list<double>("mean-bgr", "104,117,123",
                          "per-channel mean subtracted from 0..255 BGR pixels (the Caffe "
                          "release's preprocessing, which the port keeps)",
                          scenery::ListRule::exactly(3));
  config.add<bool>("bgr-input", true,
                   "the weights' conv1 reads BGR (the port of the Caffe release): flip it so "
                   "the checkpoint takes RGB");
  config.add<std::string>("categories", "", "optional class names, one per line (first word)");
  config.add<std::string>("out", "", "checkpoint to write");
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  for (const char* key : {"h5", "out"}) {
    if (config.get<std::string>(key).empty())
      throw ConfigError(fmt::format("--{} is required", key));
  }
  const std::string h5 = config.get<std::string>("h5");
  const auto info = models::inspect_keras_vgg16(h5);
  models::SceneModel model = models::create_model("vgg16", info.num_classes);
  const auto report = models::import_keras_vgg16(model, h5, config.get<bool>("bgr-input"));
  models::CheckpointMeta meta;
  models::caffe_input_normalization(mean_bgr(config), meta);
  if (const auto file = config.get<std::string>("categories"); !file.empty()) {
    meta.class_names = read_class_names(file);
    if (static_cast<int64_t>(meta.class_names.size()) != info.num_classes) {
      throw ConfigError(fmt::format("{}: {} class names, but {} has {} classes", file,
                                    meta.class_names.size(), h5, info.num_classes));
    }
  }
  const std::string out = config.get<std::string>("out");
  models::save_checkpoint(out, model, meta);
  scenery::log::info("wrote {} (vgg16, {} classes, {} tensors from Keras, backend {})", out,
                     info.num_classes, report.loaded.size(), info.backend);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return scenery::run_main("scenery-models", [&] {
    scenery::models::limit_onednn_where_cache_sizes_are_unknown();
    return scenery::dispatch_subcommand(
        "scenery-models", argc, argv,
        {
            {"list", "the architectures (model.arch) with parameter counts", run_list},
            {"import-caffe", "convert Caffe Places-CNN weights into a checkpoint",
             run_import_caffe},
            {"import-keras", "convert the Keras VGG16-Places .h5 weights into a checkpoint",
             run_import_keras},
        });
  });
}
