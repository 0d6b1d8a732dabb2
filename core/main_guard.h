// The one place where exceptions become a printed line and an exit code.
#pragma once

#include <functional>
#include <string>

namespace scenery {

// Runs `body`, prints any escaping error as one line prefixed by `program`
// on stderr and returns the matching exit code.
int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace scenery
