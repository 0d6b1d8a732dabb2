#include "eval/eval_options.h"

#include "distributed/launch.h"
#include "eval/semantic_provider.h"

namespace scenery::eval {

const Choices<models::Branches>& branch_choices() {
  static const Choices<models::Branches> choices{{"both", models::Branches::kBoth},
                                                 {"rgb", models::Branches::kRgbOnly},
                                                 {"semantic", models::Branches::kSemanticOnly}};
  return choices;
}

const std::vector<std::string>& crop_choices() {
  static const std::vector<std::string> names = {"center", "ten"};
  return names;
}

void add_eval_options(Config& c) {
  c.section("eval", "[eval] evaluation protocol and outputs");
  c.add<std::string>("eval.checkpoint", "", "checkpoint to evaluate");
  c.add_choice("eval.device", "auto", dist::device_choices(),
               "scenery-eval: auto (cuda when available; a data-parallel rank's GPU is "
               "its local rank), cpu or cuda");
  c.add_choice("eval.crop", "center", crop_choices(),
               "scene protocol: center (resize + centre crop) or ten (ten-crop, logits "
               "averaged)");
  c.add<std::string>("eval.out", "eval-out", "folder for results.json, CSVs and plots");
  c.add<std::string>("eval.submission", "",
                     "write a Places365 challenge file (scenes) or a folder of ADE20K PNGs "
                     "(parsing) here");
  c.add<bool>("eval.zip", true, "parsing: also zip the submission PNGs into <submission>.zip");
  c.add_choice("eval.semantic", "auto", semantic_source_choices(),
               "two-branch input: masks (ADE20K annotations), top3 (precomputed PNG "
               "pairs), parsing (computed by eval.semantic_checkpoint) or auto (the "
               "first of these the data and options allow)");
  c.add<std::string>("eval.semantic_checkpoint", "",
                     "two-branch input: a scene-parsing checkpoint (parsing_*) whose top-3 "
                     "maps are computed on the fly from each image");
  c.add_choice("eval.branches", "both", branch_choices().names(),
               "two-branch network: both, rgb or semantic");
  c.add_list<double>("eval.scales", "1.0",
                     "parsing: comma-separated scales of the original image size, e.g. 0.75,1,1.25",
                     ListRule::any_length(Bounds::above(0)));
  c.add<bool>("eval.flip", false, "parsing: also average the mirrored image");
  c.add<int>("eval.examples", 4,
             "parsing: images pictured as image | prediction | truth in eval.out's TensorBoard "
             "record (rank 0's first ones)",
             Bounds::within(0, 64));
}

}  // namespace scenery::eval
