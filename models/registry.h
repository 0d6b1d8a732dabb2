// The model registry: `model.arch` names -> SceneModel factories. Built-ins are
// added by one explicit call, register_builtin_models(), which model_registry()
// makes on first use; no static-initialisation tricks.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/scene_model.h"

namespace scenery::models {

struct ModelSpec {
  std::string arch = "resnet18";
  int64_t num_classes = 365;
};

class ModelRegistry {
 public:
  using Factory = std::function<SceneModel(const ModelSpec&)>;
  struct Entry {
    ModelKind kind;
    std::string summary;
    Factory factory;
  };

  // Throws ModelError if `arch` is already registered.
  void add(const std::string& arch, ModelKind kind, std::string summary, Factory factory);
  bool contains(const std::string& arch) const { return entries_.count(arch) > 0; }
  // Throws ModelError listing the known names for an unknown arch, or for num_classes < 1.
  SceneModel create(const ModelSpec& spec) const;
  const Entry& entry(const std::string& arch) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Entry> entries_;
};

// Adds resnet18/34/50/101, wideresnet18, alexnet, caffenet, googlenet_places, vgg16, densenet161,
// sascene_resnet18/50, parsing_resnet18dilated_ppm, parsing_resnet50dilated_ppm.
void register_builtin_models(ModelRegistry& registry);

// The process-wide registry, holding the built-ins.
ModelRegistry& model_registry();

// Shorthand for model_registry().create({arch, num_classes}).
SceneModel create_model(const std::string& arch, int64_t num_classes);

}  // namespace scenery::models
