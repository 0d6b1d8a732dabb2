// scenery-train: train a scene, two-branch or parsing model from a recipe.
// Exit codes: 0 done, 1 failure, 2 configuration error, 3 interrupted (SIGINT,
// SIGTERM or train.stop_after_iterations; last.ckpt saved, re-run to resume).
#include "core/allocator.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/main_guard.h"
#include "models/cpu_kernels.h"
#include "train/train_options.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  scenery::retain_freed_memory();
  return scenery::run_main("scenery-train", [&] {
    scenery::models::limit_onednn_where_cache_sizes_are_unknown();
    scenery::Config config("scenery-train", "train a model from a recipe in configs/");
    scenery::train::add_all_train_options(config);
    if (auto code = scenery::parse_or_exit(config, {argv + 1, argv + argc})) return *code;

    const auto result = scenery::train::run_training(config);
    if (result.interrupted) return static_cast<int>(scenery::kExitInterrupted);
    scenery::log::info("finished {} epochs in {}", result.epochs_done, result.run_dir.string());
    return static_cast<int>(scenery::kExitOk);
  });
}
