#include "models/layer_taps.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

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

LayerTaps::LayerTaps(const SceneModel& model) : arch_(model.arch()) {
  torch::nn::Module* m = model.module_ptr().get();
  // A Sequential's children, one stage each, named "<prefix>.<child>".
  auto add_sequential = [this](torch::nn::Sequential seq, const std::string& prefix) {
    const auto children = seq->named_children();
    for (size_t i = 0; i < seq->size(); ++i) {
      stages_.push_back(
          {prefix + "." + children[i].key(), [seq, i](const torch::Tensor& x) mutable {
             return (seq->begin() + static_cast<std::ptrdiff_t>(i))->forward(x);
           }});
    }
    if (!stages_.empty()) aliases_.push_back({prefix, stages_.size() - 1});
  };
  // A ResNet's stages, block by block ("layer2.1"), each stage's name ending at its last block.
  auto add_resnet = [this, &add_sequential](ResNetImpl* net, const std::string& prefix) {
    stages_.push_back({"", [net](const torch::Tensor& x) { return net->stem(x); }});
    const std::vector<torch::nn::Sequential> layers{net->layer1, net->layer2, net->layer3,
                                                    net->layer4};
    for (size_t l = 0; l < layers.size(); ++l)
      add_sequential(layers[l], prefix + "layer" + std::to_string(l + 1));
  };
  if (auto* resnet = dynamic_cast<ResNetImpl*>(m)) {
    add_resnet(resnet, "");
  } else if (auto* parsing = dynamic_cast<ParsingNetImpl*>(m)) {
    add_resnet(parsing->encoder.get(), "encoder.");
  } else if (auto* alexnet = dynamic_cast<AlexNetImpl*>(m)) {
    add_sequential(alexnet->features, "features");
  } else if (auto* caffenet = dynamic_cast<CaffeNetImpl*>(m)) {
    add_sequential(caffenet->features, "features");
  } else if (auto* vgg = dynamic_cast<VGGImpl*>(m)) {
    add_sequential(vgg->features, "features");
  } else if (auto* densenet = dynamic_cast<DenseNetImpl*>(m)) {
    add_sequential(densenet->features, "features");
  } else if (auto* sascene = dynamic_cast<SASceneNetImpl*>(m)) {
    // The RGB branch: the only one that sees the image.
    add_sequential(sascene->in_block, "in_block");
    add_sequential(sascene->encoder1, "encoder1");
    add_sequential(sascene->encoder2, "encoder2");
    add_sequential(sascene->encoder3, "encoder3");
    add_sequential(sascene->encoder4, "encoder4");
  } else if (auto* g = dynamic_cast<GoogLeNetPlacesImpl*>(m)) {
    // Caffe's in-place ReLUs make a convolution's blob its rectified output.
    stages_.push_back({"conv1", [g](const torch::Tensor& x) { return torch::relu(g->conv1(x)); }});
    stages_.push_back({"", [](const torch::Tensor& x) { return caffe_lrn(caffe_max_pool(x)); }});
    stages_.push_back({"conv2", [g](const torch::Tensor& x) { return torch::relu(g->conv2(x)); }});
    stages_.push_back({"conv3", [g](const torch::Tensor& x) { return torch::relu(g->conv3(x)); }});
    stages_.push_back({"", [](const torch::Tensor& x) { return caffe_max_pool(caffe_lrn(x)); }});
    const std::vector<std::pair<std::string, CaffeInception>> blocks{
        {"inception3a", g->inception3a},
        {"inception3b", g->inception3b},
        {"", nullptr},
        {"inception4a", g->inception4a},
        {"inception4b", g->inception4b},
        {"inception4c", g->inception4c},
        {"inception4d", g->inception4d},
        {"inception4e", g->inception4e},
        {"", nullptr},
        {"inception5a", g->inception5a},
        {"inception5b", g->inception5b}};
    for (const auto& [name, block] : blocks) {
      if (name.empty()) {
        stages_.push_back({"", [](const torch::Tensor& x) { return caffe_max_pool(x); }});
      } else {
        stages_.push_back(
            {name, [block = block](const torch::Tensor& x) mutable { return block->forward(x); }});
      }
    }
  } else {
    throw ModelError(fmt::format("{}: its inner layers cannot be walked", arch_));
  }
}

std::vector<std::string> LayerTaps::names() const {
  std::vector<std::pair<size_t, std::string>> ordered;
  for (size_t i = 0; i < stages_.size(); ++i)
    if (!stages_[i].name.empty()) ordered.emplace_back(i, stages_[i].name);
  for (const auto& a : aliases_)
    ordered.emplace_back(a.stage, a.name);
  // A group after its last block: "layer4.0", "layer4.1", "layer4".
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [stage, name] : ordered)
    out.push_back(std::move(name));
  return out;
}

size_t LayerTaps::stage_of(const std::string& layer) const {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (!stages_[i].name.empty() && stages_[i].name == layer) return i;
  for (const auto& a : aliases_)
    if (a.name == layer) return a.stage;
  throw ModelError(
      fmt::format("{} has no layer '{}' (valid: {})", arch_, layer, fmt::join(names(), ", ")));
}

void LayerTaps::check(const std::vector<std::string>& layers) const {
  if (layers.empty()) throw ModelError(fmt::format("no layer named for {}", arch_));
  for (const auto& l : layers)
    stage_of(l);
}

std::vector<torch::Tensor> LayerTaps::run(const torch::Tensor& images,
                                          const std::vector<std::string>& layers) const {
  std::vector<size_t> wanted;
  for (const auto& l : layers)
    wanted.push_back(stage_of(l));
  const size_t last = *std::max_element(wanted.begin(), wanted.end());
  std::vector<torch::Tensor> out(wanted.size());
  torch::Tensor x = images;
  for (size_t i = 0; i <= last; ++i) {
    x = stages_[i].run(x);
    // A later in-place ReLU would overwrite a tapped output: keep a copy.
    const bool tapped = std::find(wanted.begin(), wanted.end(), i) != wanted.end();
    if (!tapped) continue;
    const torch::Tensor kept = i < last ? x.clone() : x;
    for (size_t k = 0; k < wanted.size(); ++k)
      if (wanted[k] == i) out[k] = kept;
  }
  return out;
}

}  // namespace scenery::models
