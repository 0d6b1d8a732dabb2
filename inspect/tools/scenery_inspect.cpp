// scenery-inspect: look inside trained scene networks.
#include "core/allocator.h"
#include "core/cli.h"
#include "core/main_guard.h"
#include "inspect/tools/minimal_tool.h"
#include "inspect/tools/predict_tool.h"
#include "inspect/tools/rf_tool.h"
#include "inspect/tools/units_tool.h"
#include "models/cpu_kernels.h"

int main(int argc, char** argv) {
  scenery::retain_freed_memory();
  return scenery::run_main("scenery-inspect", [&] {
    scenery::models::limit_onednn_where_cache_sizes_are_unknown();
    return scenery::dispatch_subcommand(
        "scenery-inspect", argc, argv,
        {
            {"predict",
             "top-k, indoor/outdoor, scene attributes and class activation maps over an "
             "image, a folder or a dataset split",
             scenery::inspect::run_predict_tool},
            {"units",
             "unit dissection: which units detect which annotated classes (IoU against "
             "ADE20K-style masks), with an HTML report",
             scenery::inspect::run_units_tool},
            {"segment", "unit segmentation: each unit's region on its top images",
             scenery::inspect::run_segment_tool},
            {"rf", "empirical receptive fields by occlusion next to the theoretical ones",
             scenery::inspect::run_rf_tool},
            {"minimal",
             "minimal images: segments removed while the classifier stays correct, and the "
             "objects each scene keeps",
             scenery::inspect::run_minimal_tool},
        });
  });
}
