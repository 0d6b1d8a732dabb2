// scenery-inspect: look inside trained scene networks.
#include "core/allocator.h"
#include "core/cli.h"
#include "core/main_guard.h"
#include "eval/predict_tool.h"

int main(int argc, char** argv) {
  scenery::retain_freed_memory();
  return scenery::run_main("scenery-inspect", [&] {
    return scenery::dispatch_subcommand(
        "scenery-inspect", argc, argv,
        {
            {"predict",
             "top-k, indoor/outdoor, scene attributes and class activation maps over an "
             "image, a folder or a dataset split",
             scenery::eval::run_predict_tool},
        });
  });
}
