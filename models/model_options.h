#pragma once

#include "core/config.h"

namespace scenery::models {

// Registers the [model] section: architecture, classes and initial weights.
void add_model_options(Config& config);

}  // namespace scenery::models
