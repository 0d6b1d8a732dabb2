#include "models/scene_model.h"

#include <fmt/core.h>

#include "core/error.h"

namespace scenery::models {

const char* model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kClassifier:
      return "classifier";
    case ModelKind::kTwoBranch:
      return "two_branch";
    case ModelKind::kParsing:
      return "parsing";
  }
  return "?";
}

SceneModel::SceneModel(std::string arch, ModelKind kind, int64_t num_classes,
                       std::shared_ptr<torch::nn::Module> module, ForwardFn forward,
                       std::vector<std::string> head_prefixes, int64_t semantic_channels)
    : arch_(std::move(arch)),
      kind_(kind),
      num_classes_(num_classes),
      semantic_channels_(semantic_channels),
      module_(std::move(module)),
      forward_(std::move(forward)),
      head_prefixes_(std::move(head_prefixes)) {}

ModelOutput SceneModel::forward(const torch::Tensor& images, const SemanticMap& semantic,
                                Branches branches) {
  if (kind_ == ModelKind::kTwoBranch && branches != Branches::kRgbOnly && !semantic.defined()) {
    throw ModelError(fmt::format("{} needs a semantic map ({} channels) besides the images", arch_,
                                 semantic_channels_));
  }
  if (kind_ != ModelKind::kTwoBranch && branches != Branches::kBoth) {
    throw ModelError(fmt::format("{} is a {} model: it has no branches to select", arch_,
                                 model_kind_name(kind_)));
  }
  return forward_(images, semantic, branches);
}

torch::OrderedDict<std::string, torch::Tensor> SceneModel::named_parameters() const {
  return module_->named_parameters(true);
}

torch::OrderedDict<std::string, torch::Tensor> SceneModel::named_buffers() const {
  return module_->named_buffers(true);
}

torch::OrderedDict<std::string, torch::Tensor> SceneModel::state_dict() const {
  torch::OrderedDict<std::string, torch::Tensor> out;
  for (const auto& p : module_->named_parameters(true))
    out.insert(p.key(), p.value());
  for (const auto& b : module_->named_buffers(true))
    out.insert(b.key(), b.value());
  return out;
}

bool SceneModel::is_head_parameter(const std::string& name) const {
  for (const auto& prefix : head_prefixes_) {
    if (name.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

std::vector<torch::Tensor> SceneModel::head_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : module_->named_parameters(true)) {
    if (is_head_parameter(p.key())) out.push_back(p.value());
  }
  return out;
}

std::vector<torch::Tensor> SceneModel::body_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : module_->named_parameters(true)) {
    if (!is_head_parameter(p.key())) out.push_back(p.value());
  }
  return out;
}

const PooledClassifier& SceneModel::pooled_classifier() const {
  if (!has_pooled_classifier()) {
    throw ModelError(fmt::format(
        "{} has no classifier over globally averaged convolutional features, so it has no class "
        "activation maps (the ResNets, wideresnet18, densenet161 and the two-branch RGB branch "
        "have one)",
        arch_));
  }
  return pooled_;
}

torch::Tensor SceneModel::pooled_classifier_weight() const {
  return module_->named_parameters(true)[pooled_classifier().classifier + ".weight"];
}

torch::Tensor SceneModel::pooled_classifier_bias() const {
  return module_->named_parameters(true)[pooled_classifier().classifier + ".bias"];
}

void SceneModel::to(torch::Device device) {
  module_->to(device);
}

void SceneModel::to_channels_last() {
  // Module::to() has no memory-format overload in C++; swap the data in place
  // so optimizers holding these parameters keep working.
  // A 1x1 kernel is "contiguous" in both formats, so contiguous() would keep
  // its NCHW strides while its gradient comes with channels-last ones; the
  // explicit strides make parameter, gradient and the data-parallel bucket
  // views agree.
  torch::NoGradGuard no_grad;
  const auto restride = [](torch::Tensor& t) {
    if (t.dim() != 4) return;
    const auto n = t.sizes();
    const std::vector<int64_t> strides{n[1] * n[2] * n[3], 1, n[3] * n[1], n[1]};
    if (t.strides() == torch::IntArrayRef(strides)) return;
    t.set_data(torch::empty_strided(n, strides, t.options()).copy_(t));
  };
  for (auto& p : module_->parameters(true))
    restride(p);
  for (auto& b : module_->buffers(true))
    restride(b);
}

}  // namespace scenery::models
