// `scenery-inspect minimal`: minimal images with the classifier in the loop
// (inspect/minimal_image.h) over an image, a folder or a dataset split, and per
// scene class which objects its minimal images keep.
#pragma once

#include <string>
#include <vector>

namespace scenery::inspect {

int run_minimal_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::inspect
