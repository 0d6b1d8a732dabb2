#pragma once

#include "core/config.h"

namespace scenery::eval {

// Registers the [eval] section: protocol and outputs of an evaluation.
void add_eval_options(Config& config);

}  // namespace scenery::eval
