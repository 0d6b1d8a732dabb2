// `scenery-inspect rf`: empirical receptive fields by occlusion next to the
// theoretical ones, per layer, as Table 2 of "Object Detectors Emerge in Deep
// Scene CNNs", with each unit's averaged discrepancy map.
#pragma once

#include <string>
#include <vector>

namespace scenery::inspect {

int run_rf_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::inspect
