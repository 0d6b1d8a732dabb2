// Who a process is and where its peers meet: the [dist] options, torchrun's
// and Slurm's variables, in that order, and clear errors for what cannot work.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "distributed/launch.h"
#include "support/test_support.h"

namespace scenery::dist {
namespace {

Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string config_error(const LaunchOptions& o, const Environment& env) {
  try {
    resolve_launch(o, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

TEST(Launch, NothingSetIsASingleProcessWithoutStore) {
  const Launch l = resolve_launch({}, env_of({}));
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.world_size, 1);
  EXPECT_EQ(l.local_rank, 0);
  EXPECT_FALSE(l.distributed());
  EXPECT_EQ(l.store, StoreKind::kNone);
}

TEST(Launch, TorchrunVariablesWithItsAgentStore) {
  const Launch l = resolve_launch({}, env_of({{"RANK", "3"},
                                              {"WORLD_SIZE", "8"},
                                              {"LOCAL_RANK", "1"},
                                              {"MASTER_ADDR", "node07"},
                                              {"MASTER_PORT", "29400"},
                                              {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                              {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.world_size, 8);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.rank_source, "torchrun");
  EXPECT_EQ(l.store, StoreKind::kTcp);
  EXPECT_EQ(l.host, "node07");
  EXPECT_EQ(l.port, 29400);
  // torchrun's agent already serves the store: every rank is a client, under
  // the key prefix PyTorch's env:// rendezvous uses for this restart.
  EXPECT_TRUE(l.agent_store);
  EXPECT_EQ(l.key_prefix, "/worker/attempt_2");
}

TEST(Launch, WithoutTheAgentStoreRankZeroServes) {
  const Launch l = resolve_launch({}, env_of({{"RANK", "0"},
                                              {"WORLD_SIZE", "2"},
                                              {"MASTER_ADDR", "127.0.0.1"},
                                              {"MASTER_PORT", "29500"}}));
  EXPECT_FALSE(l.agent_store);
  EXPECT_EQ(l.key_prefix, "");
  EXPECT_EQ(l.local_rank, 0);  // no LOCAL_RANK: the rank
}

TEST(Launch, SlurmVariablesAndTheFirstNodeAsMaster) {
  const Launch l = resolve_launch({}, env_of({{"SLURM_PROCID", "5"},
                                              {"SLURM_NTASKS", "16"},
                                              {"SLURM_LOCALID", "1"},
                                              {"SLURM_JOB_NODELIST", "gpu[012-013,20],login1"},
                                              {"SLURM_JOB_ID", "4231234"}}));
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.world_size, 16);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.rank_source, "Slurm");
  EXPECT_EQ(l.host, "gpu012");
  EXPECT_EQ(l.port, 15000 + 1234);  // Lightning's convention without MASTER_PORT
  EXPECT_FALSE(l.agent_store);
}

TEST(Launch, OptionsWinOverTorchrunWhichWinsOverSlurm) {
  LaunchOptions o;
  o.rank = 1;
  o.world_size = 2;
  o.init = "tcp://10.1.2.3:4567";
  const Launch l = resolve_launch(
      o,
      env_of({{"RANK", "6"}, {"WORLD_SIZE", "7"}, {"SLURM_PROCID", "9"}, {"SLURM_NTASKS", "12"}}));
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.world_size, 2);
  EXPECT_EQ(l.rank_source, "dist.* options");
  EXPECT_EQ(l.host, "10.1.2.3");
  EXPECT_EQ(l.port, 4567);
  const Launch t = resolve_launch({}, env_of({{"RANK", "6"},
                                              {"WORLD_SIZE", "7"},
                                              {"SLURM_PROCID", "9"},
                                              {"SLURM_NTASKS", "12"},
                                              {"MASTER_ADDR", "m"},
                                              {"MASTER_PORT", "1"}}));
  EXPECT_EQ(t.rank, 6);
  EXPECT_EQ(t.world_size, 7);
}

TEST(Launch, FileStoreInit) {
  LaunchOptions o;
  o.world_size = 2;
  o.rank = 0;
  o.init = "file:///shared/job/store";
  const Launch l = resolve_launch(o, env_of({}));
  EXPECT_EQ(l.store, StoreKind::kFile);
  EXPECT_EQ(l.file, "/shared/job/store");
}

TEST(Launch, MisconfigurationsAreClearErrors) {
  EXPECT_CONTAINS(config_error({}, env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})),
                  "rank 2 (from RANK) is outside 0..1 for world size 2 (from WORLD_SIZE)");
  LaunchOptions o;
  o.world_size = 4;
  o.rank = 7;
  EXPECT_CONTAINS(config_error(o, env_of({})), "rank 7 (from dist.rank)");
  EXPECT_CONTAINS(config_error({}, env_of({{"WORLD_SIZE", "two"}})),
                  "environment variable WORLD_SIZE: expected an integer, got 'two'");
  EXPECT_CONTAINS(config_error({}, env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}})),
                  "needs MASTER_ADDR and MASTER_PORT");
  EXPECT_CONTAINS(config_error({}, env_of({{"RANK", "0"},
                                           {"WORLD_SIZE", "2"},
                                           {"MASTER_ADDR", "h"},
                                           {"MASTER_PORT", "70000"}})),
                  "a port must be in 1..65535, got 70000");
  LaunchOptions bad_init;
  bad_init.world_size = 2;
  bad_init.rank = 0;
  bad_init.init = "udp://h:1";
  EXPECT_CONTAINS(config_error(bad_init, env_of({})), "udp://h:1");
  bad_init.init = "tcp://hostonly";
  EXPECT_CONTAINS(config_error(bad_init, env_of({})), "expected tcp://HOST:PORT");
}

TEST(SlurmNodelist, ExpandsRangesListsAndPadding) {
  EXPECT_EQ(expand_slurm_nodelist("gnode[10,20-22],login1"),
            (std::vector<std::string>{"gnode10", "gnode20", "gnode21", "gnode22", "login1"}));
  EXPECT_EQ(expand_slurm_nodelist("n[008-010]"),
            (std::vector<std::string>{"n008", "n009", "n010"}));
  EXPECT_EQ(expand_slurm_nodelist("single"), (std::vector<std::string>{"single"}));
  EXPECT_EQ(expand_slurm_nodelist("a[1-2]b,c[3]"), (std::vector<std::string>{"a1b", "a2b", "c3"}));
  EXPECT_THROW(expand_slurm_nodelist("bad[1-"), ConfigError);
  EXPECT_THROW(expand_slurm_nodelist("bad[5-3]"), ConfigError);
}

}  // namespace
}  // namespace scenery::dist
