// The streaming loader: Catalog -> Sampler -> decode + transforms on a oneTBB
// task_arena of `workers` threads -> collate (written in place into the batch
// tensors) -> bounded prefetch queue -> next().
//
//   Loader loader(catalog, options);
//   loader.start_epoch(epoch);            // or start_epoch(epoch, first_batch) to resume
//   while (auto batch = loader.next()) { ... }
//
// Determinism: the order comes from (seed, epoch) and each sample's random
// stream from (seed, epoch, catalog index), so a batch's content depends only
// on (seed, epoch, position) — never on `workers` or timing. Batches arrive in
// position order.
//
// Bad files (on_error = kSkip): the sample is dropped from its batch (the
// batch SHRINKS; nothing is pulled in from later batches, which keeps batches
// independent of each other and of threads), one warning per file naming it
// and the reason, and a per-epoch summary through log::warn. A batch whose
// samples are all bad is not yielded at all; an epoch without one readable
// sample ends in a DataError naming the first. on_error = kFail: next() throws
// the DataError of the first bad sample (in batch order) naming the file.
//
// Memory stays flat: at most `prefetch` finished batches wait in the queue,
// plus the one being built. Destroying the loader (or start_epoch again)
// mid-epoch stops the producer within one sample per thread and joins it.
//
// OpenCV's own thread pool is switched off (cv::setNumThreads(0), a process-
// wide setting) when a Loader is constructed, so cv::resize inside the workers
// does not oversubscribe the cores; the workers run no torch operators.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "data/batch.h"
#include "data/catalog.h"
#include "data/image_header.h"
#include "data/sampler.h"
#include "data/semantic_input.h"
#include "data/transforms.h"

namespace scenery::data {

enum class OnError { kSkip, kFail };
enum class LoaderMode {
  kTrain,    // RandomResizedCrop + flip (+ jitter), output train.crop.size
  kEval,     // Resize(eval.resize) + CenterCrop(eval.crop)
  kTenCrop,  // Resize(eval.resize) + TenCrop(eval.crop): images [B,10,3,H,W]
};
enum class SemanticSource {
  kNone,
  kMasks,  // one-hot of the ADE20K annotation (Sample::mask)
  kTop3,   // precomputed top-3 pair (Sample::semantic_classes / semantic_scores)
};

struct LoaderOptions {
  int64_t batch_size = 32;  // per rank
  int workers = 2;          // decode/transform threads (the producer thread is one of them)
  int prefetch = 4;         // finished batches allowed to wait for the consumer (>= 1)
  uint64_t seed = 0;        // shuffling and augmentation
  bool shuffle = true;
  bool drop_last = false;
  int rank = 0, world_size = 1;  // sharding: see data/sampler.h
  int64_t shuffle_block = 0;     // 0: full permutation; else data/sampler.h's block shuffle
  int64_t shuffle_window = 0;
  OnError on_error = OnError::kSkip;
  // Images whose header declares more pixels are refused before decoding
  // (data/decode.h); 0 = no limit.
  int64_t max_image_pixels = kDefaultMaxImagePixels;
  LoaderMode mode = LoaderMode::kTrain;
  TrainTransformParams train;  // used in kTrain
  EvalTransformParams eval;    // used in kEval / kTenCrop
  NormalizeParams normalize;   // ImageNet mean/std
  bool channels_last = false;  // images with channels-last strides (same shape)
  // Batch::images as uint8 pixels [B,3,H,W] (ten-crop [B,10,3,H,W]) instead of
  // normalised floats; the consumer calls normalize_batch (on its device).
  bool uint8_images = false;
  bool load_masks = false;  // Batch::masks from Sample::mask (transformed with the image)
  SemanticSource semantic = SemanticSource::kNone;
  SemanticClassCoding semantic_coding = SemanticClassCoding::kZeroBased;
  bool pin_memory = false;  // page-locked batches; ignored unless CUDA is available
};

// The [data] options read into these: data/data_options.h.

class Loader {
 public:
  // `catalog` must outlive the loader. Throws ConfigError on inconsistent
  // options (e.g. masks asked of a catalog without masks). Decodes nothing.
  Loader(const Catalog& catalog, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts producing epoch `epoch` from batch position `first_batch` (resume);
  // abandons whatever the previous epoch had not delivered. `consumed`: global
  // samples of the epoch an earlier launch already trained on (data/sampler.h);
  // batch positions and num_batches() then count what is left.
  void start_epoch(int64_t epoch, int64_t first_batch = 0, int64_t consumed = 0);
  // The next batch in position order; nullopt at the end of the epoch (or
  // before any start_epoch). Throws DataError under on_error = kFail.
  std::optional<Batch> next();
  // Stops the producer now (also done by the destructor and start_epoch).
  void stop();

  int64_t num_batches() const { return sampler_.num_batches(); }  // per epoch, this rank
  int64_t shard_size() const { return sampler_.shard_size(); }
  const LoaderOptions& options() const { return options_; }
  int64_t skipped_this_epoch() const;  // samples skipped so far in the current epoch
  int64_t skipped_total() const;       // since construction

 private:
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;  // on_error = kFail: the first bad sample
    bool end = false;          // end of the epoch
  };
  struct Worker;         // decodes samples into batch slots: data/loader_worker.h
  struct EpochProducer;  // one epoch's pipeline, on the producer thread: data/loader.cpp
  void produce(int64_t epoch, int64_t first_batch);
  bool push(Item item);

  const Catalog& catalog_;
  LoaderOptions options_;
  Sampler sampler_;
  std::unique_ptr<Worker> worker_;  // TBB arena and per-sample work
  std::thread producer_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Item> queue_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  int64_t skipped_epoch_ = 0, skipped_total_ = 0;
};

}  // namespace scenery::data
