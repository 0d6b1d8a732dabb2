#include "eval/eval_options.h"

namespace scenery::eval {

void add_eval_options(Config& c) {
  c.add<std::string>("eval.checkpoint", "", "checkpoint to evaluate");
  c.add<std::string>("eval.crop", "center", "crop protocol: center or ten");
  c.add<std::string>("eval.out", "eval-out", "folder for results JSON, CSVs and plots");
}

}  // namespace scenery::eval
