#include "core/cli.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"

namespace scenery {

namespace {

std::string usage(const std::string& program, const std::vector<Subcommand>& subcommands) {
  std::string out = fmt::format("usage: {} <subcommand> [options]\n\nsubcommands:\n", program);
  for (const auto& s : subcommands)
    out += fmt::format("  {:<10} {}\n", s.name, s.summary);
  out += fmt::format("\n`{} <subcommand> --help` lists that subcommand's options.\n", program);
  return out;
}

}  // namespace

int dispatch_subcommand(const std::string& program, int argc, const char* const argv[],
                        const std::vector<Subcommand>& subcommands,
                        const std::string& default_name) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string name = default_name;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    name = args[0];
    args.erase(args.begin());
  } else if (!args.empty() && (args[0] == "--help" || args[0] == "-h") && default_name.empty()) {
    fmt::print("{}", usage(program, subcommands));
    return 0;
  }
  std::vector<std::string> names;
  for (const auto& s : subcommands) {
    names.push_back(s.name);
    if (s.name == name) return s.run(program + " " + s.name, args);
  }
  if (name.empty()) {
    throw UsageError(fmt::format("missing subcommand; valid subcommands: {} (see {} --help)",
                                 fmt::join(names, ", "), program));
  }
  throw UsageError(
      fmt::format("unknown subcommand '{}'; valid subcommands: {}", name, fmt::join(names, ", ")));
}

void add_common_options(Config& config) {
  config.add_choice("log-level", "info", {"debug", "info", "warn", "error"},
                    "log verbosity: debug, info, warn or error");
}

std::optional<int> parse_or_exit(Config& config, const std::vector<std::string>& args) {
  switch (config.parse(args)) {
    case ParseOutcome::kPrintedHelp:
      fmt::print("{}", config.help());
      return 0;
    case ParseOutcome::kDumpedConfig:
      fmt::print("{}", config.dump());
      return 0;
    case ParseOutcome::kRun:
      break;
  }
  if (config.has("log-level"))
    log::set_level(log::parse_level(config.get<std::string>("log-level")));
  return std::nullopt;
}

}  // namespace scenery
