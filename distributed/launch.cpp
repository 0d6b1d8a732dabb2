#include "distributed/launch.h"

#include <fmt/core.h>

#include <cstdlib>

#include "core/config.h"
#include "core/error.h"
#include "core/torch_compat.h"

namespace scenery::dist {

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kGloo:
      return "gloo";
    case Backend::kNccl:
      return "nccl";
  }
  return "?";
}

const Choices<Backend>& backend_choices() {
  static const Choices<Backend> choices{
      {"auto", Backend::kAuto}, {"gloo", Backend::kGloo}, {"nccl", Backend::kNccl}};
  return choices;
}

void add_dist_options(Config& c) {
  c.section("dist", "[dist] distributed training");
  const LaunchOptions d;
  c.add_choice("dist.backend", backend_choices().name_of(d.backend), backend_choices().names(),
               "collectives: auto (nccl on cuda when this LibTorch has it, else gloo), "
               "gloo or nccl");
  c.add<std::string>("dist.init", "env",
                     "rendezvous: env (MASTER_ADDR/MASTER_PORT from torchrun, or Slurm's first "
                     "node), tcp://HOST:PORT (rank 0 serves it) or file://PATH (shared FS)");
  c.add<int>("dist.world_size", d.world_size,
             "processes taking part; 0 = from WORLD_SIZE (torchrun) or SLURM_NTASKS, else 1",
             Bounds::at_least(0));
  c.add<int>("dist.rank", d.rank, "rank of this process; -1 = from RANK or SLURM_PROCID, else 0",
             Bounds::at_least(-1));
  c.add<int>("dist.local_rank", d.local_rank,
             "rank within the node (its GPU); -1 = from LOCAL_RANK or SLURM_LOCALID, else rank",
             Bounds::at_least(-1));
  c.add<double>("dist.timeout", d.timeout_s,
                "seconds a rank waits for the rendezvous or any collective before it fails "
                "(naming the rank it waited for)",
                Bounds::above(0));
  c.add<double>("dist.bucket_mb", d.bucket_mb,
                "gradient all-reduce bucket size in MiB (PyTorch DDP's bucket_cap_mb; the first "
                "bucket is 1 MiB)",
                Bounds::above(0));
}

LaunchOptions launch_options_from_config(const Config& c) {
  LaunchOptions o;
  o.backend = backend_choices().at("dist.backend", c.get<std::string>("dist.backend"));
  o.init = c.get<std::string>("dist.init");
  o.world_size = c.get<int>("dist.world_size");
  o.rank = c.get<int>("dist.rank");
  o.local_rank = c.get<int>("dist.local_rank");
  o.timeout_s = c.get<double>("dist.timeout");
  o.bucket_mb = c.get<double>("dist.bucket_mb");
  return o;
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

int64_t parse_integer(const std::string& text, const std::string& what) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size()) {
    throw ConfigError(fmt::format("{}: expected an integer, got '{}'", what, text));
  }
  return value;
}

// One field: the option when set, else the first variable present.
struct Field {
  int value = 0;
  std::string source;  // option name or variable name; empty: not found
};

Field pick(int option, bool option_set, const char* option_name, const Environment& env,
           std::initializer_list<const char*> variables) {
  if (option_set) return {option, option_name};
  for (const char* var : variables) {
    if (auto text = env(var)) {
      const int64_t v = parse_integer(*text, fmt::format("environment variable {}", var));
      return {static_cast<int>(v), var};
    }
  }
  return {0, ""};
}

uint16_t parse_port(const std::string& text, const std::string& what) {
  const int64_t port = parse_integer(text, what);
  if (port < 1 || port > 65535) {
    throw ConfigError(fmt::format("{}: a port must be in 1..65535, got {}", what, port));
  }
  return static_cast<uint16_t>(port);
}

bool truthy(const std::optional<std::string>& v) {
  return v && (*v == "True" || *v == "true" || *v == "1");
}

void resolve_env_address(Launch& l, const Environment& env, bool slurm) {
  const auto addr = env("MASTER_ADDR");
  const auto port = env("MASTER_PORT");
  l.store = StoreKind::kTcp;
  if (addr) {
    l.host = *addr;
    l.address_source = "MASTER_ADDR";
  } else if (slurm) {
    auto list = env("SLURM_JOB_NODELIST");
    if (!list) list = env("SLURM_NODELIST");
    if (!list) {
      throw ConfigError(
          "dist.init = env under Slurm: neither MASTER_ADDR nor SLURM_JOB_NODELIST is set");
    }
    const auto hosts = expand_slurm_nodelist(*list);
    if (hosts.empty()) throw ConfigError(fmt::format("SLURM_JOB_NODELIST '{}' is empty", *list));
    l.host = hosts.front();
    l.address_source = "the first host of SLURM_JOB_NODELIST";
  } else {
    throw ConfigError(fmt::format(
        "a {}-process launch (world size from {}) with dist.init = env needs MASTER_ADDR and "
        "MASTER_PORT (torchrun sets both), or dist.init = tcp://HOST:PORT",
        l.world_size, l.rank_source));
  }
  if (port) {
    l.port = parse_port(*port, "environment variable MASTER_PORT");
    l.address_source += " / MASTER_PORT";
  } else if (slurm) {
    const auto job = env("SLURM_JOB_ID");
    if (!job) throw ConfigError("dist.init = env under Slurm: MASTER_PORT and SLURM_JOB_ID unset");
    const int64_t id = parse_integer(*job, "environment variable SLURM_JOB_ID");
    l.port = static_cast<uint16_t>(15000 + id % 10000);
    l.address_source += " / 15000 + SLURM_JOB_ID % 10000";
  } else {
    throw ConfigError("dist.init = env: MASTER_ADDR is set but MASTER_PORT is not");
  }
  if (truthy(env("TORCHELASTIC_USE_AGENT_STORE"))) {
    l.agent_store = true;
    const auto attempt = env("TORCHELASTIC_RESTART_COUNT").value_or("0");
    l.key_prefix = "/worker/attempt_" + attempt;
  }
}

}  // namespace

Launch resolve_launch(const LaunchOptions& o, const Environment& env) {
  Launch l;
  l.backend = o.backend;
  l.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  const Field world =
      pick(o.world_size, o.world_size > 0, "dist.world_size", env, {"WORLD_SIZE", "SLURM_NTASKS"});
  const Field rank = pick(o.rank, o.rank >= 0, "dist.rank", env, {"RANK", "SLURM_PROCID"});
  const Field local = pick(o.local_rank, o.local_rank >= 0, "dist.local_rank", env,
                           {"LOCAL_RANK", "SLURM_LOCALID"});
  l.world_size = world.source.empty() ? 1 : world.value;
  l.rank = rank.source.empty() ? 0 : rank.value;
  l.local_rank = local.source.empty() ? l.rank : local.value;
  const bool slurm = world.source == "SLURM_NTASKS" || rank.source == "SLURM_PROCID";
  const auto source_of = [](const Field& f) { return f.source.empty() ? "default" : f.source; };
  l.rank_source = world.source.rfind("dist.", 0) == 0 ? "dist.* options"
                  : world.source == "WORLD_SIZE"      ? "torchrun"
                  : slurm                             ? "Slurm"
                                                      : "single process";
  if (l.world_size < 1) {
    throw ConfigError(
        fmt::format("world size must be >= 1, got {} (from {})", l.world_size, source_of(world)));
  }
  if (l.rank < 0 || l.rank >= l.world_size) {
    throw ConfigError(fmt::format(
        "rank {} (from {}) is outside 0..{} for world size {} (from {}): rank and world size "
        "disagree",
        l.rank, source_of(rank), l.world_size - 1, l.world_size, source_of(world)));
  }
  if (l.local_rank < 0) {
    throw ConfigError(
        fmt::format("local rank must be >= 0, got {} (from {})", l.local_rank, source_of(local)));
  }
  if (!l.distributed()) return l;

  if (o.init == "env") {
    resolve_env_address(l, env, slurm);
  } else if (o.init.rfind("tcp://", 0) == 0) {
    const std::string rest = o.init.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      throw ConfigError(fmt::format("dist.init: expected tcp://HOST:PORT, got '{}'", o.init));
    }
    l.store = StoreKind::kTcp;
    l.host = rest.substr(0, colon);
    l.port = parse_port(rest.substr(colon + 1), fmt::format("dist.init '{}'", o.init));
    l.address_source = "dist.init";
  } else if (o.init.rfind("file://", 0) == 0 && o.init.size() > 7) {
    l.store = StoreKind::kFile;
    l.file = o.init.substr(7);
    l.address_source = "dist.init";
  } else {
    throw ConfigError(
        fmt::format("dist.init: expected env, tcp://HOST:PORT or file://PATH, got '{}'", o.init));
  }
  return l;
}

torch::Device rank_device(const std::string& key, const std::string& value, int local_rank) {
  if (value == "cuda" || (value == "auto" && compat::cuda_available())) {
    if (!compat::cuda_available()) {
      throw ConfigError(fmt::format("{} = cuda but no CUDA device is available (LibTorch {})", key,
                                    compat::torch_version()));
    }
    const auto gpus = static_cast<int>(torch::cuda::device_count());
    if (local_rank >= gpus) {
      throw ConfigError(fmt::format("local rank {} has no GPU: this node has {} (one rank per GPU)",
                                    local_rank, gpus));
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
  }
  if (value != "cpu" && value != "auto")
    throw_invalid_value("", key, value, one_of(device_choices()));
  return torch::Device(torch::kCPU);
}

const std::vector<std::string>& device_choices() {
  static const std::vector<std::string> names = {"auto", "cpu", "cuda"};
  return names;
}

std::vector<std::string> expand_slurm_nodelist(const std::string& list) {
  std::vector<std::string> hosts;
  // Split on commas outside brackets.
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char ch : list) {
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if (depth < 0 || depth > 1) {
      throw ConfigError(fmt::format("Slurm node list '{}': unbalanced brackets", list));
    }
    if (ch == ',' && depth == 0) {
      if (!current.empty()) items.push_back(current);
      current.clear();
    } else {
      current += ch;
    }
  }
  if (depth != 0) throw ConfigError(fmt::format("Slurm node list '{}': unbalanced brackets", list));
  if (!current.empty()) items.push_back(current);

  for (const auto& item : items) {
    const auto open = item.find('[');
    if (open == std::string::npos) {
      hosts.push_back(item);
      continue;
    }
    const auto close = item.find(']', open);
    const std::string prefix = item.substr(0, open);
    const std::string suffix = item.substr(close + 1);
    const std::string ranges = item.substr(open + 1, close - open - 1);
    size_t start = 0;
    while (start <= ranges.size()) {
      auto comma = ranges.find(',', start);
      if (comma == std::string::npos) comma = ranges.size();
      const std::string range = ranges.substr(start, comma - start);
      const auto dash = range.find('-');
      const std::string lo = range.substr(0, dash);
      const std::string hi = dash == std::string::npos ? lo : range.substr(dash + 1);
      const std::string what = fmt::format("Slurm node list '{}'", list);
      const int64_t a = parse_integer(lo, what);
      const int64_t b = parse_integer(hi, what);
      if (a < 0 || b < a) throw ConfigError(fmt::format("{}: bad range '{}'", what, range));
      for (int64_t v = a; v <= b; ++v) {
        std::string digits = std::to_string(v);
        if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');
        hosts.push_back(prefix + digits + suffix);
      }
      start = comma + 1;
    }
  }
  return hosts;
}

}  // namespace scenery::dist
