#pragma once

#include "core/config.h"

namespace scenery::data {

// Registers the [data] section: which dataset, where, and how it is loaded.
void add_data_options(Config& config);

}  // namespace scenery::data
