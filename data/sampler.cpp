#include "data/sampler.h"

#include <fmt/core.h>

#include <numeric>
#include <stdexcept>

#include "core/error.h"
#include "data/transforms_rng.h"

namespace scenery::data {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  // A stream distinct from every per-sample stream (those use index >= 0).
  Rng rng = Rng::for_sample(seed, static_cast<uint64_t>(epoch), ~uint64_t{0});
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[rng.randint(0, i)]);
  return order;
}

Sampler::Sampler(int64_t dataset_size, SamplerOptions options)
    : size_(dataset_size), options_(options) {
  if (options_.batch_size < 1)
    throw ConfigError(fmt::format("batch size must be >= 1, got {}", options_.batch_size));
  if (options_.world_size < 1)
    throw ConfigError(fmt::format("world size must be >= 1, got {}", options_.world_size));
  if (options_.rank < 0 || options_.rank >= options_.world_size)
    throw ConfigError(fmt::format("rank {} outside [0, {})", options_.rank, options_.world_size));
  if (size_ < 0) throw ConfigError("negative dataset size");
}

void Sampler::set_epoch(int64_t epoch) {
  if (epoch == epoch_ && !order_.empty()) return;
  epoch_ = epoch;
  order_ = epoch_order(size_, options_.seed, epoch, options_.shuffle);
}

int64_t Sampler::shard_size() const {
  const int64_t W = options_.world_size, r = options_.rank;
  if (options_.drop_last) return size_ / W;
  return size_ / W + (r < size_ % W ? 1 : 0);
}

int64_t Sampler::num_batches() const {
  const int64_t s = shard_size(), B = options_.batch_size;
  return options_.drop_last ? s / B : (s + B - 1) / B;
}

std::vector<int64_t> Sampler::batch(int64_t position) const {
  if (epoch_ < 0) throw std::logic_error("Sampler::batch before set_epoch");
  if (position < 0 || position >= num_batches())
    throw std::out_of_range(
        fmt::format("batch position {} outside [0, {})", position, num_batches()));
  const int64_t B = options_.batch_size, W = options_.world_size;
  const int64_t first = position * B, last = std::min(first + B, shard_size());
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(last - first));
  for (int64_t k = first; k < last; ++k)
    out.push_back(order_[k * W + options_.rank]);
  return out;
}

}  // namespace scenery::data
