// `scenery-inspect rf`: empirical receptive fields by occlusion next to the
// theoretical ones, per layer, as Table 2 of "Object Detectors Emerge in Deep
// Scene CNNs", with each unit's averaged discrepancy map.
#pragma once

#include <string>
#include <vector>

namespace scenery::inspect {

// "0-7,12" -> 0..7, 12; "all" -> 0..units-1. Throws ConfigError for a unit
// outside 0..units-1 or text that is not such a list.
std::vector<int64_t> parse_unit_list(const std::string& text, int64_t units);

int run_rf_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::inspect
