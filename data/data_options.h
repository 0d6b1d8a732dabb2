#pragma once

#include <string>
#include <utility>

#include "core/config.h"

namespace scenery::data {

// Registers the [data] section: which dataset, where, and how it is loaded.
void add_data_options(Config& config);

// data.max_image_pixels, validated: 0 (no limit) or a positive pixel count,
// else ConfigError naming the value.
int64_t max_image_pixels_from_config(const Config& config);

// A 'lo,hi' option (each a number or a fraction a/b) within [min, max], else
// ConfigError naming the key and the value.
std::pair<double, double> range_from_config(const Config& config, const std::string& key,
                                            double min, double max);

}  // namespace scenery::data
