// Which catalog samples make up batch `position` of `epoch` on this rank.
//
// Order: the identity, or (shuffle) a Fisher-Yates permutation driven by
// Rng(seed, epoch) — the same on every rank, so ranks agree on the split.
// Sharded datasets read mostly sequentially instead (shuffle_block > 0): the
// samples are cut into blocks of `shuffle_block` consecutive ones, the blocks
// are permuted, then every window of `shuffle_window` consecutive positions is
// permuted within itself (a shuffle buffer whose content is fixed by the
// seed). Either way the global order is a function of (seed, epoch) alone,
// never of the world size or the worker count.
// Sharding: rank r takes positions r, r + W, r + 2W, ... of that order, so
// after b batches on every rank exactly the first b * B * W positions are
// consumed, whatever W is.
//   drop_last = false: every sample is seen exactly once per epoch across the
//     ranks; shards are UNEVEN (sizes differ by at most one sample, no padding)
//     and the last batch of a rank may be partial, so ranks may differ by one
//     batch. Evaluation merges such shards exactly; the trainer refuses a split
//     whose ranks would take different batch counts (ranks must step together)
//     and asks for drop_last.
//   drop_last = true: every rank takes exactly floor(N / W) samples (the
//     N mod W remainder of the permutation is not used this epoch) and only
//     full batches, so all ranks run the same number of steps.
#pragma once

#include <cstdint>
#include <vector>

namespace scenery::data {

struct SamplerOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
  bool drop_last = false;
  int64_t shuffle_block = 0;   // 0: a full permutation; else block + window shuffle (above)
  int64_t shuffle_window = 0;  // positions permuted together after the block permutation
};

class Sampler {
 public:
  // Throws ConfigError for batch_size < 1, world_size < 1 or rank outside [0, W).
  Sampler(int64_t dataset_size, SamplerOptions options);

  // Prepares the order of `epoch` (cheap: one permutation of N indices).
  // `consumed`: the epoch's first global positions, already trained on by an
  // earlier launch (perhaps with another world size), are left out: rank r
  // takes positions consumed + r, consumed + r + W, ... (elastic resume).
  void set_epoch(int64_t epoch, int64_t consumed = 0);
  int64_t consumed() const { return consumed_; }
  int64_t epoch() const { return epoch_; }

  int64_t shard_size() const;   // samples this rank sees per epoch
  int64_t num_batches() const;  // batches this rank yields per epoch
  // Catalog indices of batch `position` (0 <= position < num_batches()).
  std::vector<int64_t> batch(int64_t position) const;

  const SamplerOptions& options() const { return options_; }
  int64_t dataset_size() const { return size_; }

 private:
  int64_t size_;
  SamplerOptions options_;
  int64_t epoch_ = -1;
  int64_t consumed_ = 0;
  std::vector<int64_t> order_;  // the whole epoch's permutation
};

// The permutation of 0..n-1 for (seed, epoch); identity when !shuffle; the
// block + window shuffle when block > 0.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle,
                                 int64_t block = 0, int64_t window = 0);

}  // namespace scenery::data
