// `scenery-eval run`: a checkpoint on a dataset split, with its report and,
// when asked, a challenge submission.
#pragma once

#include <string>
#include <vector>

namespace scenery::eval {

int run_eval_tool(const std::string& program, const std::vector<std::string>& args);

}  // namespace scenery::eval
