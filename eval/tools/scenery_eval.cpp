// scenery-eval: evaluate checkpoints, write and score challenge submissions.
#include <fmt/core.h>

#include "core/allocator.h"
#include "core/cli.h"
#include "core/main_guard.h"
#include "data/data_options.h"
#include "eval/eval_options.h"
#include "eval/tools/eval_tool.h"
#include "eval/tools/score_tool.h"
#include "models/cpu_kernels.h"
#include "models/model_options.h"

namespace {

int run_config(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "resolve and print the evaluation configuration");
  scenery::add_common_options(config);
  scenery::data::add_data_options(config);
  scenery::models::add_model_options(config);
  scenery::eval::add_eval_options(config);
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  fmt::print("{}", config.dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  scenery::retain_freed_memory();
  return scenery::run_main("scenery-eval", [&] {
    scenery::models::limit_onednn_where_cache_sizes_are_unknown();
    return scenery::dispatch_subcommand(
        "scenery-eval", argc, argv,
        {
            {"run", "evaluate a checkpoint on a dataset split (report, submission)",
             scenery::eval::run_eval_tool},
            {"config", "print the resolved evaluation configuration", run_config},
            {"score", "score a Places365 submission file or a folder of ADE20K PNGs",
             scenery::eval::run_score_tool},
        });
  });
}
