// `scenery-inspect units` (Network Dissection of named layers against
// ADE20K-style annotations) and `scenery-inspect segment` (unit segmentation of
// Zhou et al. 2015): the same two passes, different pictures.
#pragma once

#include <string>
#include <vector>

namespace scenery::inspect {

int run_units_tool(const std::string& program, const std::vector<std::string>& args);
int run_segment_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::inspect
