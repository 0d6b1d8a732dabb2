// Who this process is in a data-parallel job, and where its peers meet,
// resolved from the [dist] options and the launcher's environment.
//
// Each of rank, world size and local rank comes from the first of:
//   1. the dist.* option (dist.rank, dist.world_size, dist.local_rank), when set;
//   2. torchrun's RANK, WORLD_SIZE, LOCAL_RANK;
//   3. Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID;
//   4. a single process: rank 0 of 1 (local rank = rank).
// The rendezvous (dist.init):
//   env            MASTER_ADDR / MASTER_PORT (torchrun sets both); under Slurm
//                  without them, the first host of SLURM_JOB_NODELIST and
//                  MASTER_PORT or 15000 + the last four digits of SLURM_JOB_ID
//                  (Lightning's convention). torchrun's agent store
//                  (TORCHELASTIC_USE_AGENT_STORE=True) is already served by the
//                  launcher: every rank connects as a client under the key
//                  prefix /worker/attempt_<TORCHELASTIC_RESTART_COUNT>, as
//                  PyTorch's own env:// rendezvous does.
//   tcp://HOST:PORT  rank 0 serves the store there.
//   file://PATH      a FileStore on a shared filesystem (PATH must not be a
//                    leftover of an earlier job).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/option_rules.h"

namespace scenery {
class Config;
}

namespace scenery::dist {

// PyTorch DDP's bucket_cap_mb default.
constexpr double kDefaultBucketMb = 25;

enum class Backend { kAuto, kGloo, kNccl };
const char* backend_name(Backend backend);

struct LaunchOptions {
  Backend backend = Backend::kAuto;
  std::string init = "env";  // env | tcp://HOST:PORT | file://PATH
  int world_size = 0;        // 0: from the environment
  int rank = -1;             // -1: from the environment
  int local_rank = -1;       // -1: from the environment
  double timeout_s = 300;    // rendezvous and every collective
  // Gradient all-reduce bucket (PyTorch DDP's bucket_cap_mb), used by the
  // trainer's data parallelism (train/data_parallel.h).
  double bucket_mb = kDefaultBucketMb;
};

// Registers [dist]: backend, init, world_size, rank, local_rank, timeout, bucket_mb.
void add_dist_options(Config& config);
// Reads them back (the schema has checked them).
LaunchOptions launch_options_from_config(const Config& config);
const Choices<Backend>& backend_choices();

enum class StoreKind { kNone, kTcp, kFile };

struct Launch {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string rank_source = "single process";  // "dist.* options", "torchrun", "Slurm"
  Backend backend = Backend::kAuto;
  StoreKind store = StoreKind::kNone;  // kNone only when world_size == 1
  std::string host;                    // kTcp
  uint16_t port = 0;                   // kTcp
  std::string file;                    // kFile
  bool agent_store = false;            // kTcp served by torchrun: every rank a client
  std::string key_prefix;              // prefix of every store key (agent store)
  std::string address_source;          // where host:port came from, for errors
  std::chrono::milliseconds timeout{300000};

  bool distributed() const { return world_size > 1; }
};

// Looks a variable up; nullopt when unset. Tests pass a map instead of getenv.
using Environment = std::function<std::optional<std::string>(const std::string&)>;
Environment process_environment();

// Throws ConfigError (naming the option or variable, expected vs got) for a
// rank outside [0, world size), a world size < 1, a non-numeric variable, a
// malformed dist.init, or a multi-process launch that names no master.
Launch resolve_launch(const LaunchOptions& options, const Environment& env);

// The device of a rank from a device option (`key` = `value`: auto, cpu or
// cuda): cuda:local_rank when CUDA is asked for (auto: when available).
// ConfigError for an unknown value, cuda without a GPU, or a local rank
// beyond the node's GPUs.
torch::Device rank_device(const std::string& key, const std::string& value, int local_rank);
// The values rank_device accepts (auto, cpu, cuda): the choices of every *.device option.
const std::vector<std::string>& device_choices();

// Expands Slurm's compressed host list ("gnode[10,20-22],login1" ->
// gnode10 gnode20 gnode21 gnode22 login1), zero padding kept ("n[008-010]").
// Throws ConfigError on unbalanced brackets or a bad range.
std::vector<std::string> expand_slurm_nodelist(const std::string& nodelist);

}  // namespace scenery::dist
