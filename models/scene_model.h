// SceneModel: the one interface trainer and evaluator use for every network,
// whatever its kind, so neither needs to know the concrete module types.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/semantic_map.h"

namespace scenery::models {

enum class ModelKind {
  kClassifier,  // image -> logits
  kTwoBranch,   // image + semantic map -> logits, rgb_logits, sem_logits
  kParsing,     // image -> per-pixel logits (+ aux_logits in training)
};
const char* model_kind_name(ModelKind kind);

// Every output a model may produce; the ones a kind does not produce stay undefined.
struct ModelOutput {
  torch::Tensor logits;      // N x C (classifier, two-branch) or N x C x H x W (parsing)
  torch::Tensor rgb_logits;  // two-branch auxiliary RGB head
  torch::Tensor sem_logits;  // two-branch auxiliary semantic head
  torch::Tensor aux_logits;  // parsing deep-supervision head (training only)
};

// What class activation maps (Zhou et al. 2016) need of a network whose
// logits are a linear layer over the global average of its last convolutional
// block: that block's output and the linear layer's name.
struct PooledClassifier {
  std::string feature_layer;  // module that produces the maps ("layer4", "features", "encoder4")
  std::string classifier;     // the nn::Linear over their average ("fc", "classifier", "fc_RGB")
  // N x K x h x w, what the classifier's input is the spatial mean of.
  std::function<torch::Tensor(const torch::Tensor& images)> features;
};

// What a two-branch model evaluates (ignored by other kinds).
enum class Branches { kBoth, kRgbOnly, kSemanticOnly };

class SceneModel {
 public:
  using ForwardFn = std::function<ModelOutput(const torch::Tensor& images,
                                              const SemanticMap& semantic, Branches branches)>;

  SceneModel(std::string arch, ModelKind kind, int64_t num_classes,
             std::shared_ptr<torch::nn::Module> module, ForwardFn forward,
             std::vector<std::string> head_prefixes, int64_t semantic_channels = 0);

  const std::string& arch() const { return arch_; }
  ModelKind kind() const { return kind_; }
  int64_t num_classes() const { return num_classes_; }
  // Channels of the semantic map a two-branch model expects (0 otherwise).
  int64_t semantic_channels() const { return semantic_channels_; }

  // Throws ModelError when a two-branch model lacks the semantic map it needs.
  ModelOutput forward(const torch::Tensor& images, const SemanticMap& semantic = {},
                      Branches branches = Branches::kBoth);

  torch::nn::Module& module() { return *module_; }
  std::shared_ptr<torch::nn::Module> module_ptr() const { return module_; }

  torch::OrderedDict<std::string, torch::Tensor> named_parameters() const;
  torch::OrderedDict<std::string, torch::Tensor> named_buffers() const;
  // Parameters and buffers by name: what a checkpoint stores (torchvision's state_dict).
  torch::OrderedDict<std::string, torch::Tensor> state_dict() const;

  // Names prefixes of the classifier head(s) ("fc.", "classifier.6.", ...):
  // what fine-tuning on a new class count re-initialises.
  const std::vector<std::string>& head_prefixes() const { return head_prefixes_; }
  bool is_head_parameter(const std::string& name) const;
  std::vector<torch::Tensor> head_parameters() const;
  std::vector<torch::Tensor> body_parameters() const;

  // Networks with a PooledClassifier (the ResNets, wideresnet18, densenet161,
  // the two-branch RGB branch) support class activation maps.
  void set_pooled_classifier(PooledClassifier view) { pooled_ = std::move(view); }
  bool has_pooled_classifier() const { return static_cast<bool>(pooled_.features); }
  // Throws ModelError naming the arch when it has none (AlexNet, VGG16, ...).
  const PooledClassifier& pooled_classifier() const;
  // The classifier's weight (classes x K) and bias (classes).
  torch::Tensor pooled_classifier_weight() const;
  torch::Tensor pooled_classifier_bias() const;

  void train(bool on = true) { module_->train(on); }
  void eval() { module_->eval(); }
  bool is_training() const { return module_->is_training(); }
  void to(torch::Device device);
  // Moves 4-D parameters and buffers to channels-last memory format (faster
  // convolutions with oneDNN/cuDNN); feed channels-last inputs too.
  void to_channels_last();

 private:
  std::string arch_;
  ModelKind kind_;
  int64_t num_classes_;
  int64_t semantic_channels_;
  std::shared_ptr<torch::nn::Module> module_;
  ForwardFn forward_;
  std::vector<std::string> head_prefixes_;
  PooledClassifier pooled_;
};

}  // namespace scenery::models
