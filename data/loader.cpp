// The loader's queue, epochs and producer thread (data/loader.h): a TBB
// pipeline turns the sampler's batches into samples for Loader::Worker
// (data/loader_worker.h) and hands the finished batches to the bounded queue
// that next() reads.
#include "data/loader.h"

#include <fmt/core.h>

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>
#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"
#include "data/loader_worker.h"

namespace scenery::data {

Loader::Loader(const Catalog& catalog, LoaderOptions options)
    : catalog_(catalog),
      options_(options),
      sampler_(static_cast<int64_t>(catalog.size()),
               SamplerOptions{options.batch_size, options.shuffle, options.seed, options.rank,
                              options.world_size, options.drop_last, options.shuffle_block,
                              options.shuffle_window}) {
  if (options_.workers < 1)
    throw ConfigError(fmt::format("data.workers must be >= 1, got {}", options_.workers));
  if (options_.prefetch < 1)
    throw ConfigError(fmt::format("data.prefetch must be >= 1, got {}", options_.prefetch));
  if (loader_detail::output_size(options_) < 1) throw ConfigError("image size must be >= 1");
  if (options_.mode == LoaderMode::kTenCrop &&
      (options_.load_masks || options_.semantic != SemanticSource::kNone))
    throw ConfigError("ten-crop loading supports images only (no masks or semantic maps)");
  if ((options_.load_masks || options_.semantic == SemanticSource::kMasks) && !catalog.has_masks())
    throw ConfigError(
        fmt::format("{} {} has no annotation masks to load", catalog.dataset(), catalog.split()));
  if (options_.semantic == SemanticSource::kTop3 && !catalog.has_semantic_maps())
    throw ConfigError(
        fmt::format("{} {} has no precomputed semantic maps", catalog.dataset(), catalog.split()));
  if (options_.pin_memory && !compat::cuda_available())
    log::debug("pin_memory ignored: CUDA is not available");
  // OpenCV's pool would run under each of our workers and oversubscribe the cores.
  cv::setNumThreads(0);
  worker_ = std::make_unique<Worker>(catalog_, options_);
}

Loader::~Loader() {
  stop();
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  not_full_.notify_all();
  not_empty_.notify_all();
  if (producer_.joinable()) producer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.clear();
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch, int64_t consumed) {
  stop();
  sampler_.set_epoch(epoch, consumed);
  if (first_batch < 0 || first_batch > sampler_.num_batches())
    throw ConfigError(fmt::format("resume position {} outside [0, {}] batches of epoch {}",
                                  first_batch, sampler_.num_batches(), epoch));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
    started_ = true;
    skipped_epoch_ = 0;
  }
  producer_ = std::thread([this, epoch, first_batch] { produce(epoch, first_batch); });
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) return std::nullopt;
  not_empty_.wait(lock, [&] { return !queue_.empty() || stop_; });
  if (queue_.empty()) return std::nullopt;  // stopped
  // A terminal item stays in place: later calls see the same outcome.
  if (queue_.front().error) {
    std::exception_ptr e = queue_.front().error;
    lock.unlock();
    std::rethrow_exception(e);
  }
  if (queue_.front().end) return std::nullopt;
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  return std::move(item.batch);
}

int64_t Loader::skipped_this_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_epoch_;
}
int64_t Loader::skipped_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_total_;
}

bool Loader::push(Item item) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Terminal items never wait for room: the consumer must always see them.
  if (!item.end && !item.error)
    not_full_.wait(lock,
                   [&] { return stop_ || static_cast<int>(queue_.size()) < options_.prefetch; });
  if (stop_) return false;
  queue_.push_back(std::move(item));
  lock.unlock();
  not_empty_.notify_one();
  return true;
}

// Named (not anonymous) because Loader::EpochProducer holds these.
namespace loader_detail {

// One batch under construction: its samples flow through the pipeline as
// separate tokens and are written into `slots` in place.
struct BatchJob {
  int64_t position = 0;
  std::vector<int64_t> indices;
  Slots slots;
  std::vector<std::string> errors;  // per sample; empty = loaded
};
struct SampleToken {
  std::shared_ptr<BatchJob> job;
  int64_t k = 0;
};

}  // namespace loader_detail
using loader_detail::BatchJob;
using loader_detail::SampleToken;

namespace {

// The batch of `job`'s readable samples `good` (all of them, or fewer: the
// batch shrinks, keeping their order).
Batch assemble_loader_batch(const BatchJob& job, const std::vector<int64_t>& good, int64_t epoch,
                            const LoaderOptions& o) {
  Batch b;
  b.epoch = epoch;
  b.position = job.position;
  const loader_detail::Slots& s = job.slots;
  if (static_cast<int64_t>(good.size()) == static_cast<int64_t>(job.indices.size())) {
    b.images = s.images;
    b.labels = s.labels;
    b.masks = s.masks;
    b.semantic_channels = s.sem_channels;
    b.semantic_scores = s.sem_scores;
    b.indices = s.indices;
    b.erase = s.erase;
    return b;
  }
  const auto keep = torch::tensor(good, torch::kInt64);
  auto pick = [&](const torch::Tensor& t) {
    if (!t.defined()) return t;
    auto out = t.index_select(0, keep);
    return out;
  };
  b.images = o.channels_last && o.mode != LoaderMode::kTenCrop
                 ? pick(s.images).contiguous(torch::MemoryFormat::ChannelsLast)
                 : pick(s.images);
  b.labels = pick(s.labels);
  b.masks = pick(s.masks);
  b.semantic_channels = pick(s.sem_channels);
  b.semantic_scores = pick(s.sem_scores);
  b.indices = pick(s.indices);
  b.erase = pick(s.erase);
  return b;
}

}  // namespace

// One epoch's production: the pipeline's three stages and the delivery of
// finished batches. Nested in Loader for its queue, counters and stop flag.
//
// Why a tbb::parallel_pipeline rather than a parallel_for per batch: samples
// of consecutive batches overlap, so no thread idles at a batch boundary
// waiting for the slowest sample (with many threads and small batches that
// tail was a large share). The serial in-order stages keep creation and
// delivery in position order; the live-token limit bounds the work in flight
// (at most two batches under construction, plus `prefetch` in the queue).
struct Loader::EpochProducer {
  Loader& loader;
  const int64_t epoch;
  const int64_t batches;  // in the epoch, on this rank
  int64_t pos;            // the batch the next sample token belongs to
  int64_t k = 0;          // that sample's place in its batch
  std::shared_ptr<BatchJob> current;
  int64_t skipped = 0;                // unreadable samples so far this epoch
  int64_t delivered = 0;              // batches handed to the queue this epoch
  std::string first_error;            // the first unreadable sample's reason
  std::atomic<bool> finished{false};  // a terminal item was pushed, or pushing was refused

  EpochProducer(Loader& l, int64_t e, int64_t first_batch)
      : loader(l), epoch(e), batches(l.sampler_.num_batches()), pos(first_batch) {}

  bool halted() const { return loader.stop_ || finished; }

  // Runs every remaining batch of the epoch through the pipeline.
  void run() {
    Worker& worker = *loader.worker_;
    const size_t tokens = static_cast<size_t>(std::max(2, 2 * loader.options_.workers));
    worker.arena.execute([&] {
      tbb::parallel_pipeline(
          tokens,
          tbb::make_filter<void, SampleToken>(
              tbb::filter_mode::serial_in_order,
              [this](tbb::flow_control& fc) { return next_sample(fc); }) &
              tbb::make_filter<SampleToken, SampleToken>(
                  tbb::filter_mode::parallel, [this](SampleToken t) { return load_sample(t); }) &
              tbb::make_filter<SampleToken, void>(tbb::filter_mode::serial_in_order,
                                                  [this](SampleToken t) { complete_sample(t); }));
    });
  }

  // Stage 1 (serial, in order): the next sample's token, opening its batch
  // (indices and slots) at the batch's first sample.
  SampleToken next_sample(tbb::flow_control& fc) {
    if (halted() || pos >= batches) {
      fc.stop();
      return {};
    }
    if (!current) {
      current = std::make_shared<BatchJob>();
      current->position = pos;
      current->indices = loader.sampler_.batch(pos);
      current->slots = loader.worker_->acquire(static_cast<int64_t>(current->indices.size()));
      current->errors.resize(current->indices.size());
    }
    SampleToken t{current, k};
    if (++k == static_cast<int64_t>(current->indices.size())) {
      current.reset();
      k = 0;
      ++pos;
    }
    return t;
  }

  // Stage 2 (parallel): decodes the sample into its slot, or records why not.
  SampleToken load_sample(SampleToken t) const {
    if (halted()) return t;
    const Worker& worker = *loader.worker_;
    const int64_t index = t.job->indices[t.k];
    try {
      worker.load(index, epoch, t.job->slots, t.k);
    } catch (const std::exception& e) {
      t.job->errors[t.k] = worker.name_failure(index, e.what());
    } catch (...) {
      t.job->errors[t.k] = worker.name_failure(index, "");
    }
    return t;
  }

  // Stage 3 (serial, in order): a batch's last sample delivers the batch.
  void complete_sample(const SampleToken& t) {
    if (t.k + 1 != static_cast<int64_t>(t.job->indices.size())) return;
    if (halted()) return;
    if (!deliver(*t.job)) finished = true;
  }

  // Hands a finished batch to the queue; false once the epoch must end here.
  bool deliver(const BatchJob& job) {
    std::vector<int64_t> good;
    if (!keep_readable(job, good)) return false;
    if (good.empty()) return true;  // the whole batch was unreadable
    ++delivered;
    Item item;
    item.batch = assemble_loader_batch(job, good, epoch, loader.options_);
    return loader.push(std::move(item));
  }

  // Fills `good` with the readable samples of `job`, warning about and counting
  // the others (kSkip). Under kFail, pushes the first failure instead and
  // returns false.
  bool keep_readable(const BatchJob& job, std::vector<int64_t>& good) {
    const int64_t n = static_cast<int64_t>(job.indices.size());
    for (int64_t i = 0; i < n; ++i) {
      if (job.errors[i].empty()) {
        good.push_back(i);
        continue;
      }
      if (loader.options_.on_error == OnError::kFail) {
        Item item;
        item.error = std::make_exception_ptr(DataError(job.errors[i]));
        loader.push(std::move(item));
        return false;
      }
      log::warn("skipping unreadable sample {} (epoch {}, batch {}): {}", job.indices[i], epoch,
                job.position, job.errors[i]);
      if (skipped++ == 0) first_error = job.errors[i];
      std::lock_guard<std::mutex> lock(loader.mutex_);
      ++loader.skipped_epoch_;
      ++loader.skipped_total_;
    }
    return true;
  }
};

// The producer thread's body: one epoch, then its end (or its error) in the queue.
void Loader::produce(int64_t epoch, int64_t first_batch) {
  try {
    EpochProducer producer(*this, epoch, first_batch);
    producer.run();
    if (producer.halted()) return;
    // Not one readable sample: a wrong root, a missing mount or a broken
    // decoder, never something to train or evaluate on as if nothing happened.
    if (producer.skipped > 0 && producer.delivered == 0)
      throw DataError(fmt::format(
          "epoch {}: all {} samples read on rank {} were unreadable; the first: {} (check "
          "data.root, and run scenery-data check on the split)",
          epoch, producer.skipped, options_.rank, producer.first_error));
    if (producer.skipped > 0)
      log::warn("epoch {}: skipped {} unreadable sample(s) of {} on rank {}", epoch,
                producer.skipped, sampler_.shard_size(), options_.rank);
    Item end;
    end.end = true;
    push(std::move(end));
  } catch (...) {  // never let an exception escape the thread (std::terminate)
    Item item;
    item.error = std::current_exception();
    push(std::move(item));
  }
}

}  // namespace scenery::data
