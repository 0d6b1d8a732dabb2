// Where a two-branch network's semantic map comes from, for training and
// evaluation alike:
//  - the loader: ADE20K annotations or precomputed top-3 PNG pairs, carried in
//    the batch as slots (data/batch.h);
//  - a trained scene-parsing checkpoint run on the batch's own images, so new
//    images (Places365, SUN397, MIT Indoor 67, the user's) need no precomputed
//    maps. Its top-3 classes and probabilities become the slots exactly as a
//    precomputed top-3 PNG pair would give them (class c -> channel c, scores
//    rounded to 1/255), so a network trained on either sees the same input.
#pragma once

#include <filesystem>
#include <memory>

#include "data/batch.h"
#include "data/catalog.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "models/checkpoint.h"
#include "models/scene_model.h"

namespace scenery::eval {

class SemanticProvider {
 public:
  // Maps from the batch (or none, for RGB-only use).
  SemanticProvider() = default;

  // Maps computed by `parser` (a parsing network; evaluated in eval mode,
  // without gradients). `images_normalize` is how the loader normalised the
  // images, `parser_normalize` what the parser was trained with.
  SemanticProvider(models::SceneModel parser, const data::NormalizeParams& images_normalize,
                   const data::NormalizeParams& parser_normalize);

  // Reads a parsing checkpoint (ModelError / CheckpointError when the file is
  // not one) and moves the network to `device`.
  static SemanticProvider from_checkpoint(const std::filesystem::path& checkpoint,
                                          const data::NormalizeParams& images_normalize,
                                          torch::Device device);

  bool computes_maps() const { return parser_ != nullptr; }

  // The semantic map for `batch`, on the device of `images` (the batch's
  // images already moved there). Undefined when there is none.
  models::SemanticMap operator()(const data::Batch& batch, const torch::Tensor& images) const;

 private:
  std::shared_ptr<models::SceneModel> parser_;
  torch::Tensor scale_, shift_;  // images -> parser normalisation, [1,3,1,1]
};

// The values of a semantic-source option (eval.semantic, train.semantic_source).
const std::vector<std::string>& semantic_source_choices();

// Resolves the semantic-source options (`source_key` = auto | masks | top3 |
// parsing, `checkpoint_key` = the parsing checkpoint) for `catalog`: sets
// `loader.semantic` for maps from the data, or returns a provider that computes
// them. auto takes annotations, then precomputed top-3 maps, then the parsing
// checkpoint if one is named. ConfigError when the choice cannot be met.
SemanticProvider resolve_semantic_input(const std::string& source_key, const std::string& source,
                                        const std::string& checkpoint_key,
                                        const std::string& checkpoint, const data::Catalog& catalog,
                                        data::LoaderOptions& loader, torch::Device device);

// The input normalisation a checkpoint was trained with (ImageNet's when its
// metadata has none).
data::NormalizeParams checkpoint_normalization(const models::CheckpointMeta& meta);

// Top-3 slots of per-pixel class logits [N,150,H,W] (class index i = ADE class
// i + 1 = channel i + 1), scores = softmax probabilities rounded to 1/255.
models::SemanticMap top3_slots_of_logits(const torch::Tensor& logits);

}  // namespace scenery::eval
