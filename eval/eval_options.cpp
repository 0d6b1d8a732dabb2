#include "eval/eval_options.h"

namespace scenery::eval {

void add_eval_options(Config& c) {
  c.add<std::string>("eval.checkpoint", "", "checkpoint to evaluate");
  c.add<std::string>("eval.device", "auto",
                     "scenery-eval: auto (cuda when available; a data-parallel rank's GPU is "
                     "its local rank), cpu or cuda");
  c.add<std::string>("eval.crop", "center",
                     "scene protocol: center (resize + centre crop) or ten (ten-crop, logits "
                     "averaged)");
  c.add<std::string>("eval.out", "eval-out", "folder for results.json, CSVs and plots");
  c.add<std::string>("eval.submission", "",
                     "write a Places365 challenge file (scenes) or a folder of ADE20K PNGs "
                     "(parsing) here");
  c.add<bool>("eval.zip", true, "parsing: also zip the submission PNGs into <submission>.zip");
  c.add<std::string>("eval.semantic", "auto",
                     "two-branch input: masks (ADE20K annotations), top3 (precomputed PNG "
                     "pairs), parsing (computed by eval.semantic_checkpoint) or auto (the "
                     "first of these the data and options allow)");
  c.add<std::string>("eval.semantic_checkpoint", "",
                     "two-branch input: a scene-parsing checkpoint (parsing_*) whose top-3 "
                     "maps are computed on the fly from each image");
  c.add<std::string>("eval.branches", "both", "two-branch network: both, rgb or semantic");
  c.add<std::string>(
      "eval.scales", "1.0",
      "parsing: comma-separated scales of the original image size, e.g. 0.75,1,1.25");
  c.add<bool>("eval.flip", false, "parsing: also average the mirrored image");
}

}  // namespace scenery::eval
