// A real Gloo group on 127.0.0.1, its ranks as threads of this process: the
// collectives, and failures that name the host, the port or the lost rank.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/error.h"
#include "distributed/process_group.h"
#include "support/test_support.h"

namespace scenery::dist {
namespace {

using scenery::testing::free_port;
using scenery::testing::TempDir;

Launch launch_of(int rank, int world, uint16_t port, double timeout_s = 20) {
  LaunchOptions o;
  o.rank = rank;
  o.world_size = world;
  o.init = "tcp://127.0.0.1:" + std::to_string(port);
  o.timeout_s = timeout_s;
  o.backend = Backend::kGloo;
  return resolve_launch(o, [](const std::string&) { return std::nullopt; });
}

// Runs `body(group)` on `world` threads, one rank each.
template <class Body>
void on_ranks(int world, Body body) {
  const uint16_t port = free_port();
  std::vector<std::future<void>> ranks;
  for (int r = 0; r < world; ++r) {
    ranks.push_back(std::async(std::launch::async, [=] {
      auto group = ProcessGroup::create(launch_of(r, world, port), torch::kCPU);
      body(*group);
    }));
  }
  for (auto& f : ranks)
    f.get();
}

TEST(ProcessGroup, AllReduceBroadcastAndAllGatherOverGloo) {
  on_ranks(3, [](ProcessGroup& g) {
    auto x = torch::full({4}, static_cast<int64_t>(g.rank() + 1), torch::kInt64);
    g.all_reduce_sum(x);
    EXPECT_TRUE(torch::equal(x, torch::full({4}, 6, torch::kInt64)));
    auto m = torch::tensor({static_cast<double>(g.rank())}, torch::kDouble);
    g.all_reduce_max(m);
    EXPECT_EQ(m.item<double>(), 2.0);
    // Non-contiguous tensors are reduced through a copy and written back.
    auto t = torch::arange(6, torch::kFloat).view({2, 3}).t() * (g.rank() + 1);
    g.all_reduce_sum(t);
    EXPECT_TRUE(torch::allclose(t, torch::arange(6, torch::kFloat).view({2, 3}).t() * 6));
    std::vector<torch::Tensor> b{torch::full({2}, static_cast<float>(10 * g.rank()))};
    g.broadcast(b, 1);
    EXPECT_TRUE(torch::equal(b[0], torch::full({2}, 10.0f)));
    const auto all = g.all_gather(torch::tensor({g.rank() * 2}, torch::kInt64));
    EXPECT_TRUE(torch::equal(all, torch::tensor({{0}, {2}, {4}}, torch::kInt64)));
    g.barrier();
  });
}

TEST(ProcessGroup, UnreachableMasterIsNamedWithinTheTimeout) {
  const uint16_t port = free_port();  // nobody serves it
  const auto start = std::chrono::steady_clock::now();
  try {
    ProcessGroup::create(launch_of(1, 2, port, 2), torch::kCPU);
    FAIL() << "no error";
  } catch (const DistError& e) {
    EXPECT_CONTAINS(e.what(), "127.0.0.1:" + std::to_string(port));
    EXPECT_CONTAINS(e.what(), "rank 1 of 2");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 15);
}

TEST(ProcessGroup, ARankThatNeverJoinsIsNamed) {
  const uint16_t port = free_port();
  try {
    ProcessGroup::create(launch_of(0, 2, port, 3), torch::kCPU);
    FAIL() << "no error";
  } catch (const DistError& e) {
    EXPECT_CONTAINS(e.what(), "rank 1 never joined");
  }
}

TEST(ProcessGroup, ALostRankIsNamedByTheOthers) {
  const uint16_t port = free_port();
  std::promise<void> joined;
  auto leaver = std::async(std::launch::async, [&] {
    auto group = ProcessGroup::create(launch_of(1, 2, port, 10), torch::kCPU);
    auto x = torch::ones({1});
    group->all_reduce_sum(x);
    // Gone without a word: its connections close and its heartbeat stops.
  });
  auto group = ProcessGroup::create(launch_of(0, 2, port, 10), torch::kCPU);
  auto x = torch::ones({1});
  group->all_reduce_sum(x);
  leaver.get();
  auto y = torch::ones({1});
  try {
    group->all_reduce_sum(y);
    FAIL() << "no error";
  } catch (const DistError& e) {
    EXPECT_CONTAINS(e.what(), "rank 1 is lost");
    EXPECT_CONTAINS(e.what(), "rank 0 of 2");
  }
}

TEST(ProcessGroup, ARankThatIsAliveButNeverJoinsTheCollectiveIsNamedAsStuck) {
  const uint16_t port = free_port();
  std::promise<void> done;
  auto stuck = std::async(std::launch::async, [&] {
    auto group = ProcessGroup::create(launch_of(1, 2, port, 3), torch::kCPU);
    auto x = torch::ones({1});
    group->all_reduce_sum(x);
    // Alive (its heartbeat goes on) but busy elsewhere, e.g. a slow data source.
    done.get_future().wait();
  });
  auto group = ProcessGroup::create(launch_of(0, 2, port, 3), torch::kCPU);
  auto x = torch::ones({1});
  group->all_reduce_sum(x);
  auto y = torch::ones({1});
  try {
    group->all_reduce_sum(y);
    ADD_FAILURE() << "no error";
  } catch (const DistError& e) {
    EXPECT_CONTAINS(e.what(), "rank 1 is alive but stuck before collective 2");
  }
  done.set_value();
  stuck.get();
}

TEST(ProcessGroup, FileStoreRendezvous) {
  TempDir dir;
  LaunchOptions o;
  o.world_size = 2;
  o.init = "file://" + (dir / "store").string();
  o.timeout_s = 20;
  std::vector<std::future<int64_t>> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(std::async(std::launch::async, [o, r]() mutable {
      o.rank = r;
      auto group = ProcessGroup::create(
          resolve_launch(o, [](const std::string&) { return std::nullopt; }), torch::kCPU);
      auto x = torch::tensor({r + 1}, torch::kInt64);
      group->all_reduce_sum(x);
      return x.item<int64_t>();
    }));
  }
  for (auto& f : ranks)
    EXPECT_EQ(f.get(), 3);
}

}  // namespace
}  // namespace scenery::dist
