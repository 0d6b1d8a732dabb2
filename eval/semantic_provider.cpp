#include "eval/semantic_provider.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/option_rules.h"
#include "models/checkpoint.h"
#include "models/registry.h"

namespace scenery::eval {

SemanticProvider::SemanticProvider(models::SceneModel parser,
                                   const data::NormalizeParams& images_normalize,
                                   const data::NormalizeParams& parser_normalize) {
  if (parser.kind() != models::ModelKind::kParsing) {
    throw ModelError(fmt::format("semantic maps need a scene-parsing network, but '{}' is a {}",
                                 parser.arch(), models::model_kind_name(parser.kind())));
  }
  parser.eval();
  parser_ = std::make_shared<models::SceneModel>(std::move(parser));
  // parser input = (x * std_i + mean_i - mean_p) / std_p = x * scale + shift
  std::vector<float> scale(3), shift(3);
  for (int c = 0; c < 3; ++c) {
    scale[c] = images_normalize.std[c] / parser_normalize.std[c];
    shift[c] = (images_normalize.mean[c] - parser_normalize.mean[c]) / parser_normalize.std[c];
  }
  scale_ = torch::tensor(scale).view({1, 3, 1, 1});
  shift_ = torch::tensor(shift).view({1, 3, 1, 1});
}

SemanticProvider SemanticProvider::from_checkpoint(const std::filesystem::path& checkpoint,
                                                   const data::NormalizeParams& images_normalize,
                                                   torch::Device device) {
  models::Checkpoint ckpt = models::read_checkpoint(checkpoint);
  if (ckpt.meta.arch.empty()) {
    throw CheckpointError(fmt::format(
        "{}: bare weights without an architecture; semantic maps need a Scenery parsing "
        "checkpoint (model.arch parsing_*)",
        checkpoint.string()));
  }
  models::SceneModel parser = models::create_model(ckpt.meta.arch, ckpt.meta.num_classes);
  if (parser.kind() != models::ModelKind::kParsing) {
    throw CheckpointError(
        fmt::format("{}: '{}' is not a scene-parsing network (expected parsing_*)",
                    checkpoint.string(), ckpt.meta.arch));
  }
  models::load_state_dict(parser, ckpt.state_dict, models::LoadMode::kStrict, checkpoint.string());
  parser.to(device);
  const data::NormalizeParams parser_normalize = checkpoint_normalization(ckpt.meta);
  log::info("semantic maps: top-3 of {} ({}) computed on the fly", checkpoint.string(),
            ckpt.meta.arch);
  SemanticProvider provider(std::move(parser), images_normalize, parser_normalize);
  provider.scale_ = provider.scale_.to(device);
  provider.shift_ = provider.shift_.to(device);
  return provider;
}

const std::vector<std::string>& semantic_source_choices() {
  static const std::vector<std::string> names = {"auto", "masks", "top3", "parsing"};
  return names;
}

SemanticProvider resolve_semantic_input(const std::string& source_key, const std::string& source,
                                        const std::string& checkpoint_key,
                                        const std::string& checkpoint, const data::Catalog& catalog,
                                        data::LoaderOptions& loader, torch::Device device) {
  const auto& choices = semantic_source_choices();
  if (std::find(choices.begin(), choices.end(), source) == choices.end())
    throw_invalid_value("", source_key, source, one_of(choices));
  const auto where = fmt::format("{} {}", catalog.dataset(), catalog.split());
  // auto prefers predicted (top-3) maps over ground truth: what real images
  // will have, and what the published models were trained and tested on.
  if (source == "top3" || (source == "auto" && catalog.has_semantic_maps())) {
    if (!catalog.has_semantic_maps()) {
      throw ConfigError(
          fmt::format("{} = top3, but {} has no precomputed top-3 maps (set "
                      "data.semantic_maps)",
                      source_key, where));
    }
    loader.semantic = data::SemanticSource::kTop3;
    return {};
  }
  if (source == "masks" || (source == "auto" && catalog.has_masks())) {
    if (!catalog.has_masks())
      throw ConfigError(fmt::format("{} = masks, but {} has no annotations", source_key, where));
    loader.semantic = data::SemanticSource::kMasks;
    return {};
  }
  if (checkpoint.empty()) {
    throw ConfigError(fmt::format(
        "the two-branch network needs semantic maps, but {} has neither annotations nor "
        "precomputed top-3 maps; name a scene-parsing checkpoint with {} to compute them",
        where, checkpoint_key));
  }
  loader.semantic = data::SemanticSource::kNone;
  return SemanticProvider::from_checkpoint(checkpoint, loader.normalize, device);
}

data::NormalizeParams checkpoint_normalization(const models::CheckpointMeta& meta) {
  data::NormalizeParams n;
  if (meta.input_mean.size() == 3 && meta.input_std.size() == 3) {
    for (int i = 0; i < 3; ++i) {
      n.mean[i] = static_cast<float>(meta.input_mean[i]);
      n.std[i] = static_cast<float>(meta.input_std[i]);
    }
  }
  return n;
}

models::SemanticMap top3_slots_of_logits(const torch::Tensor& logits) {
  auto [scores, classes] = torch::softmax(logits.to(torch::kFloat32), 1).topk(3, 1);
  // Rounded as the precomputed PNGs store them (value / 255).
  scores = scores.mul(255).round_().div_(255);
  return models::SemanticMap::from_slots(classes.add(1).to(torch::kUInt8), scores);
}

models::SemanticMap SemanticProvider::operator()(const data::Batch& batch,
                                                 const torch::Tensor& images) const {
  if (parser_) {
    torch::NoGradGuard no_grad;
    const auto input = images.to(torch::kFloat32) * scale_ + shift_;
    return top3_slots_of_logits(parser_->forward(input).logits);
  }
  if (!batch.semantic_channels.defined()) return {};
  const auto device = images.defined() ? images.device() : torch::Device(torch::kCPU);
  return models::SemanticMap::from_slots(
      batch.semantic_channels.to(device, /*non_blocking=*/true),
      batch.semantic_scores.defined() ? batch.semantic_scores.to(device, true) : torch::Tensor());
}

}  // namespace scenery::eval
