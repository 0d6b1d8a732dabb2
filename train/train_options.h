#pragma once

#include "core/config.h"

namespace scenery::train {

// Registers the [train] and [dist] sections.
void add_train_options(Config& config);

// Registers every option scenery-train accepts (common, [data], [model],
// [train], [eval], [dist]): what the tool parses, and what tests build runs from.
void add_all_train_options(Config& config);

}  // namespace scenery::train
