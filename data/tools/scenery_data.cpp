// scenery-data: generate synthetic datasets and inspect real ones.
#include <fmt/core.h>

#include "core/cli.h"
#include "core/main_guard.h"
#include "data/data_options.h"

namespace {

int run_config(const std::string& program, const std::vector<std::string>& args) {
  scenery::Config config(program, "resolve and print the [data] configuration");
  scenery::add_common_options(config);
  scenery::data::add_data_options(config);
  if (auto code = scenery::parse_or_exit(config, args)) return *code;
  fmt::print("{}", config.dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return scenery::run_main("scenery-data", [&] {
    return scenery::dispatch_subcommand(
        "scenery-data", argc, argv,
        {
            {"config", "print the resolved [data] configuration", run_config},
        });
  });
}
