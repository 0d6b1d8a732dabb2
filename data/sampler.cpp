#include "data/sampler.h"

#include <fmt/core.h>

#include <numeric>
#include <stdexcept>

#include "core/error.h"
#include "data/transforms_rng.h"

namespace scenery::data {

namespace {

template <class T>
void fisher_yates(T* first, int64_t n, Rng& rng) {
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(first[i], first[rng.randint(0, i)]);
}

}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle,
                                 int64_t block, int64_t window) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  // Streams distinct from every per-sample stream (those use index >= 0).
  Rng rng = Rng::for_sample(seed, static_cast<uint64_t>(epoch), ~uint64_t{0});
  if (block <= 0) {
    fisher_yates(order.data(), n, rng);
    return order;
  }
  const int64_t blocks = (n + block - 1) / block;
  std::vector<int64_t> block_order(static_cast<size_t>(blocks));
  std::iota(block_order.begin(), block_order.end(), int64_t{0});
  fisher_yates(block_order.data(), blocks, rng);
  size_t k = 0;
  for (int64_t b : block_order)
    for (int64_t i = b * block; i < std::min(n, (b + 1) * block); ++i)
      order[k++] = i;
  Rng window_rng = Rng::for_sample(seed, static_cast<uint64_t>(epoch), ~uint64_t{1});
  if (window > 1)
    for (int64_t start = 0; start < n; start += window)
      fisher_yates(order.data() + start, std::min(window, n - start), window_rng);
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
  if (options_.shuffle_block < 0 || options_.shuffle_window < 0)
    throw ConfigError(fmt::format("shuffle block and window must be >= 0, got {} and {}",
                                  options_.shuffle_block, options_.shuffle_window));
}

void Sampler::set_epoch(int64_t epoch, int64_t consumed) {
  if (consumed < 0 || consumed > size_)
    throw ConfigError(fmt::format("{} samples of epoch {} already consumed, but it has {}",
                                  consumed, epoch + 1, size_));
  consumed_ = consumed;
  if (epoch == epoch_ && !order_.empty()) return;
  epoch_ = epoch;
  order_ = epoch_order(size_, options_.seed, epoch, options_.shuffle, options_.shuffle_block,
                       options_.shuffle_window);
}

int64_t Sampler::shard_size() const {
  const int64_t W = options_.world_size, r = options_.rank, left = size_ - consumed_;
  if (options_.drop_last) return left / W;
  return left / W + (r < left % W ? 1 : 0);
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
    out.push_back(order_[consumed_ + k * W + options_.rank]);
  return out;
}

}  // namespace scenery::data
