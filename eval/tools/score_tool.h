// `scenery-eval score`: official numbers from a submission, like the devkits.
#pragma once

#include <string>
#include <vector>

namespace scenery::eval {

int run_score_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::eval
