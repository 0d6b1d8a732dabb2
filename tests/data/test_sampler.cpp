#include "data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/error.h"

namespace scenery::data {
namespace {

std::vector<int64_t> all_of_rank(int64_t n, SamplerOptions o, int64_t epoch) {
  Sampler s(n, o);
  s.set_epoch(epoch);
  std::vector<int64_t> out;
  for (int64_t p = 0; p < s.num_batches(); ++p) {
    const auto b = s.batch(p);
    EXPECT_LE(static_cast<int64_t>(b.size()), o.batch_size);
    out.insert(out.end(), b.begin(), b.end());
  }
  EXPECT_EQ(static_cast<int64_t>(out.size()),
            o.drop_last ? s.num_batches() * o.batch_size : s.shard_size());
  return out;
}

TEST(Sampler, EverySampleExactlyOncePerEpochAcrossRanks) {
  for (int64_t n : {0, 1, 7, 10, 97, 100}) {
    for (int world : {1, 2, 3, 4}) {
      for (int64_t batch : {1, 3, 8}) {
        std::vector<int64_t> seen;
        for (int rank = 0; rank < world; ++rank) {
          const auto r = all_of_rank(n, {batch, true, 5, rank, world, false}, 2);
          seen.insert(seen.end(), r.begin(), r.end());
        }
        std::sort(seen.begin(), seen.end());
        std::vector<int64_t> expected(static_cast<size_t>(n));
        std::iota(expected.begin(), expected.end(), 0);
        ASSERT_EQ(seen, expected) << "n=" << n << " world=" << world << " batch=" << batch;
      }
    }
  }
}

TEST(Sampler, UnevenShardsDifferByAtMostOneSample) {
  int64_t lo = 1 << 30, hi = 0;
  for (int rank = 0; rank < 4; ++rank) {
    Sampler s(10, {3, true, 0, rank, 4, false});
    lo = std::min(lo, s.shard_size());
    hi = std::max(hi, s.shard_size());
  }
  EXPECT_EQ(lo, 2);
  EXPECT_EQ(hi, 3);
}

TEST(Sampler, DropLastGivesEveryRankTheSameNumberOfFullBatchesAndNoDuplicates) {
  std::set<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    Sampler s(100, {8, true, 1, rank, 3, true});
    EXPECT_EQ(s.shard_size(), 33);
    EXPECT_EQ(s.num_batches(), 4);
    for (auto i : all_of_rank(100, {8, true, 1, rank, 3, true}, 0))
      EXPECT_TRUE(seen.insert(i).second);
  }
  EXPECT_EQ(seen.size(), 96u);
}

TEST(Sampler, KnownNumberOfBatches) {
  EXPECT_EQ(Sampler(10, {4, false, 0, 0, 1, false}).num_batches(), 3);
  EXPECT_EQ(Sampler(10, {4, false, 0, 0, 1, true}).num_batches(), 2);
  EXPECT_EQ(Sampler(0, {4, false, 0, 0, 1, false}).num_batches(), 0);
}

TEST(Sampler, ShuffleDependsOnSeedAndEpochOnly) {
  const auto a = epoch_order(50, 1, 0, true);
  EXPECT_EQ(a, epoch_order(50, 1, 0, true));
  EXPECT_NE(a, epoch_order(50, 1, 1, true));
  EXPECT_NE(a, epoch_order(50, 2, 0, true));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, epoch_order(50, 1, 0, false));  // a permutation; identity unshuffled
}

TEST(Sampler, UnshuffledBatchesAreConsecutiveStridedByRank) {
  Sampler s(10, {2, false, 0, 1, 2, false});
  s.set_epoch(0);
  EXPECT_EQ(s.batch(0), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(s.batch(2), (std::vector<int64_t>{9}));
  EXPECT_THROW(s.batch(3), std::out_of_range);
}

TEST(Sampler, BadOptionsAreConfigErrors) {
  EXPECT_THROW(Sampler(10, {0, false, 0, 0, 1, false}), ConfigError);
  EXPECT_THROW(Sampler(10, {1, false, 0, 2, 2, false}), ConfigError);
  EXPECT_THROW(Sampler(10, {1, false, 0, 0, 0, false}), ConfigError);
}

}  // namespace
}  // namespace scenery::data
