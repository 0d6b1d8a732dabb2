// `scenery-inspect predict`: the Places365 demo over one image, a folder or a
// dataset split — top-k, indoor/outdoor, scene attributes, class activation maps.
#pragma once

#include <string>
#include <vector>

namespace scenery::inspect {

int run_predict_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::inspect
