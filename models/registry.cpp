#include "models/registry.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/alexnet.h"
#include "models/caffenet.h"
#include "models/densenet.h"
#include "models/googlenet_places.h"
#include "models/parsing_net.h"
#include "models/resnet.h"
#include "models/sascene.h"
#include "models/vgg.h"

namespace scenery::models {

void ModelRegistry::add(const std::string& arch, ModelKind kind, std::string summary,
                        Factory factory) {
  if (contains(arch)) throw ModelError(fmt::format("model '{}' is registered twice", arch));
  entries_.emplace(arch, Entry{kind, std::move(summary), std::move(factory)});
}

const ModelRegistry::Entry& ModelRegistry::entry(const std::string& arch) const {
  auto it = entries_.find(arch);
  if (it == entries_.end()) {
    throw ModelError(
        fmt::format("unknown model.arch '{}' (known: {})", arch, fmt::join(names(), ", ")));
  }
  return it->second;
}

SceneModel ModelRegistry::create(const ModelSpec& spec) const {
  const Entry& e = entry(spec.arch);
  if (spec.num_classes < 1) {
    throw ModelError(
        fmt::format("model.num_classes must be >= 1 for {}, got {}", spec.arch, spec.num_classes));
  }
  return e.factory(spec);
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_)
    out.push_back(name);
  return out;
}

namespace {

template <class Holder>
SceneModel classifier(const ModelSpec& spec, Holder net, std::vector<std::string> head) {
  return SceneModel(
      spec.arch, ModelKind::kClassifier, spec.num_classes, net.ptr(),
      [net](const torch::Tensor& x, const SemanticMap&, Branches) mutable {
        ModelOutput out;
        out.logits = net->forward(x);
        return out;
      },
      std::move(head));
}

SceneModel make_resnet(const ModelSpec& spec, int depth, bool max_pool) {
  auto o = resnet_options(depth, spec.num_classes);
  o.max_pool = max_pool;
  ResNet net(o);
  SceneModel model = classifier(spec, net, {"fc."});
  model.set_pooled_classifier(
      {"layer4", "fc", [net](const torch::Tensor& x) mutable { return net->last_block(x); }});
  return model;
}

SceneModel make_googlenet_places(const ModelSpec& spec) {
  GoogLeNetPlaces net(spec.num_classes);
  SceneModel model = classifier(spec, net, {"fc."});
  model.set_pooled_classifier(
      {"inception5b", "fc", [net](const torch::Tensor& x) mutable { return net->last_block(x); }});
  return model;
}

SceneModel make_densenet(const ModelSpec& spec) {
  DenseNetOptions o;
  o.num_classes = spec.num_classes;
  DenseNet net(o);
  SceneModel model = classifier(spec, net, {"classifier."});
  model.set_pooled_classifier({"features", "classifier", [net](const torch::Tensor& x) mutable {
                                 return net->last_block(x);
                               }});
  return model;
}

SceneModel make_sascene(const ModelSpec& spec, int depth) {
  SASceneOptions o;
  o.depth = depth;
  o.num_classes = spec.num_classes;
  SASceneNet net(o);
  SceneModel model(
      spec.arch, ModelKind::kTwoBranch, spec.num_classes, net.ptr(),
      [net](const torch::Tensor& x, const SemanticMap& sem, Branches b) mutable {
        const BranchMode mode = b == Branches::kRgbOnly        ? BranchMode::kRgbOnly
                                : b == Branches::kSemanticOnly ? BranchMode::kSemanticOnly
                                                               : BranchMode::kBoth;
        auto r = net->forward(x, sem, mode);
        ModelOutput out;
        // In a single-branch mode that branch's head is the model's answer.
        out.logits = mode == BranchMode::kRgbOnly        ? r.rgb_logits
                     : mode == BranchMode::kSemanticOnly ? r.sem_logits
                                                         : r.logits;
        out.rgb_logits = r.rgb_logits;
        out.sem_logits = r.sem_logits;
        return out;
      },
      {"fc.", "fc_RGB.", "fc_SEM."}, o.semantic_channels);
  // The fused head sees rgb * sigmoid(sem) through two more convolutions, so
  // only the RGB branch's auxiliary head is a classifier over pooled maps.
  model.set_pooled_classifier({"encoder4", "fc_RGB", [net](const torch::Tensor& x) mutable {
                                 return net->rgb_features(x);
                               }});
  return model;
}

SceneModel make_parsing(const ModelSpec& spec, int depth) {
  ParsingNet net(depth, spec.num_classes);
  return SceneModel(spec.arch, ModelKind::kParsing, spec.num_classes, net.ptr(),
                    [net](const torch::Tensor& x, const SemanticMap&, Branches) mutable {
                      auto r = net->forward(x);
                      ModelOutput out;
                      out.logits = r.logits;
                      out.aux_logits = r.aux_logits;
                      return out;
                    },
                    {"decoder.conv_last.4.", "decoder.conv_last_deepsup."});
}

}  // namespace

void register_builtin_models(ModelRegistry& r) {
  using K = ModelKind;
  for (int depth : {18, 34, 50, 101}) {
    r.add("resnet" + std::to_string(depth), K::kClassifier,
          fmt::format("torchvision ResNet-{}", depth),
          [depth](const ModelSpec& s) { return make_resnet(s, depth, true); });
  }
  r.add("wideresnet18", K::kClassifier, "Places365 wideresnet18 (ResNet-18 without max-pool)",
        [](const ModelSpec& s) { return make_resnet(s, 18, false); });
  r.add("alexnet", K::kClassifier, "torchvision AlexNet", [](const ModelSpec& s) {
    return classifier(s, AlexNet(s.num_classes), {"classifier.6."});
  });
  r.add(
      "caffenet", K::kClassifier,
      "original AlexNet of the Places-CNN Caffe releases (groups, LRN; 227 px)",
      [](const ModelSpec& s) { return classifier(s, CaffeNet(s.num_classes), {"classifier.6."}); });
  r.add("vgg16", K::kClassifier, "torchvision VGG16",
        [](const ModelSpec& s) { return classifier(s, VGG(s.num_classes), {"classifier.6."}); });
  r.add("googlenet_places", K::kClassifier,
        "BVLC GoogLeNet of the Places205/365 Caffe releases (LRN, ceil pooling; 224 px)",
        make_googlenet_places);
  r.add("densenet161", K::kClassifier, "torchvision DenseNet-161", make_densenet);
  r.add("sascene_resnet18", K::kTwoBranch, "Semantic-Aware two-branch network, ResNet-18 RGB",
        [](const ModelSpec& s) { return make_sascene(s, 18); });
  r.add("sascene_resnet50", K::kTwoBranch, "Semantic-Aware two-branch network, ResNet-50 RGB",
        [](const ModelSpec& s) { return make_sascene(s, 50); });
  r.add("parsing_resnet18dilated_ppm", K::kParsing, "dilated ResNet-18 + PPM (ADE20K-150)",
        [](const ModelSpec& s) { return make_parsing(s, 18); });
  r.add("parsing_resnet50dilated_ppm", K::kParsing, "dilated ResNet-50 + PPM (ADE20K-150)",
        [](const ModelSpec& s) { return make_parsing(s, 50); });
}

ModelRegistry& model_registry() {
  static ModelRegistry registry = [] {
    ModelRegistry r;
    register_builtin_models(r);
    return r;
  }();
  return registry;
}

SceneModel create_model(const std::string& arch, int64_t num_classes) {
  return model_registry().create({arch, num_classes});
}

}  // namespace scenery::models
