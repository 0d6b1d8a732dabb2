// The [train] section, declared in parts next to their readers: the run,
// step and loss options here (read by train/trainer.cpp), the optimiser's in
// train/optimizers.cpp, the schedule's in train/schedules.cpp, the hardware's
// in train/hardware.cpp.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"

namespace scenery::train {

// Registers the [train] section.
void add_train_options(Config& config);

// Registers every option scenery-train accepts (common, [data], [model],
// [train], [eval], [dist]): what the tool parses, and what tests build runs from.
void add_all_train_options(Config& config);

// train.best_metric's values (which of them a model measures is checked
// against its kind when the run starts).
const std::vector<std::string>& best_metric_choices();

}  // namespace scenery::train
