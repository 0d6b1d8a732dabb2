// scenery-inspect: look inside trained scene networks.
#include "core/allocator.h"
#include "core/cli.h"
#include "core/main_guard.h"
#include "eval/predict_tool.h"
#include "eval/units_tool.h"

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
            {"units",
             "unit dissection: which units detect which annotated classes (IoU against "
             "ADE20K-style masks), with an HTML report",
             scenery::eval::run_units_tool},
            {"segment", "unit segmentation: each unit's region on its top images",
             scenery::eval::run_segment_tool},
        });
  });
}
