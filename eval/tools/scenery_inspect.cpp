// scenery-inspect: look inside trained scene networks.
#include "core/allocator.h"
#include "core/cli.h"
#include "core/main_guard.h"
#include "eval/minimal_tool.h"
#include "eval/predict_tool.h"
#include "eval/rf_tool.h"
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
            {"rf", "empirical receptive fields by occlusion next to the theoretical ones",
             scenery::eval::run_rf_tool},
            {"minimal",
             "minimal images: segments removed while the classifier stays correct, and the "
             "objects each scene keeps",
             scenery::eval::run_minimal_tool},
        });
  });
}
