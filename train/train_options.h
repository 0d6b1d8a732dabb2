#pragma once

#include "core/config.h"

namespace scenery::train {

// Registers the [train] and [dist] sections.
void add_train_options(Config& config);

}  // namespace scenery::train
