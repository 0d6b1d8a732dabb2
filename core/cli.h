// What every scenery-* executable shares: subcommand dispatch, the common
// options, and the handling of --help / --dump-config.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace scenery {

struct Subcommand {
  std::string name;
  std::string summary;
  std::function<int(const std::string& program, const std::vector<std::string>& args)> run;
};

// argv[1] selects the subcommand (or `default_name` when argv[1] is absent or an
// option). Throws UsageError listing the valid subcommands otherwise.
int dispatch_subcommand(const std::string& program, int argc, const char* const argv[],
                        const std::vector<Subcommand>& subcommands,
                        const std::string& default_name = "");

// Registers options every tool has (log level).
void add_common_options(Config& config);

// Parses `args` into `config`; prints help or the resolved configuration when
// asked and returns the exit code then; applies the common options otherwise.
std::optional<int> parse_or_exit(Config& config, const std::vector<std::string>& args);

}  // namespace scenery
