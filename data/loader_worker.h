// Private to the loader (data/loader.cpp and data/loader_worker.cpp): the
// per-sample half of Loader. Loader::Worker hands out a batch's tensors
// (loader_detail::Slots) and decodes + transforms each sample straight into
// its slot; Loader itself only orders, queues and delivers the batches.
#pragma once

#include <tbb/task_arena.h>
#include <torch/torch.h>
#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/decode.h"
#include "data/loader.h"
#include "data/transforms.h"

namespace scenery::data {

// Named (not anonymous) because Loader::Worker holds and takes these: a class
// with external linkage must not use types of an anonymous namespace.
namespace loader_detail {

// The side of every image crop a batch holds.
inline int output_size(const LoaderOptions& o) {
  return o.mode == LoaderMode::kTrain ? o.train.crop.size : o.eval.crop;
}

// Tensors of one batch, allocated once, filled in place by the workers.
struct Slots {
  torch::Tensor images, labels, masks, sem_channels, sem_scores, indices;
  float* image_ptr = nullptr;    // float images
  uint8_t* pixel_ptr = nullptr;  // uint8 images
  int64_t* mask_ptr = nullptr;
  uint8_t* sem_channel_ptr = nullptr;
  float* sem_score_ptr = nullptr;
  torch::Tensor erase;  // int32 [B,4] random-erasing boxes, for uint8 batches only
  int32_t* erase_ptr = nullptr;
  size_t image_stride = 0, mask_stride = 0, sem_stride = 0;  // elements per sample
};

// One sample as decoded, before any geometry is applied to it.
struct DecodedSample {
  // Training decodes only the random crop's neighbourhood of a JPEG.
  PartialImage image;
  TrainGeometry geometry;  // kTrain: drawn from the header's size; default otherwise
  Views views;             // annotation mask and semantic maps (full size), if asked
};

}  // namespace loader_detail

struct Loader::Worker {
  using Slots = loader_detail::Slots;
  using DecodedSample = loader_detail::DecodedSample;

  const Catalog& catalog;
  const LoaderOptions& o;
  tbb::task_arena arena;

  // Full-size batch buffers handed out before; reused once nobody else holds
  // their storage (a consumer keeping a batch or a view of it keeps it alive).
  // Why: a fresh 19 MB batch costs thousands of page faults (~10% of the
  // loader's time in profiles); reuse keeps memory flat and warm.
  std::vector<Slots> pool;

  Worker(const Catalog& c, const LoaderOptions& opts);

  // Tensors for a batch of `n` samples. Only the producer thread calls this.
  Slots acquire(int64_t n);

  // The message of a failed load, naming a file of the sample: DataErrors
  // already do; anything else (std::bad_alloc, cv::Exception) gets the image's
  // path in front, so no warning ever names only an index or a what().
  std::string name_failure(int64_t index, const std::string& what) const;

  // Decodes and transforms catalog sample `index` into slot `k`. Throws
  // DataError naming the file on any bad input.
  void load(int64_t index, int64_t epoch, const Slots& s, int64_t k) const;

 private:
  Slots allocate(int64_t n) const;

  // The steps of load(), in order.
  DecodedSample decode_sample(const Sample& sample, int64_t index, int64_t epoch) const;
  Views train_into(const DecodedSample& d, const Slots& s, int64_t k) const;
  Views eval_into(const DecodedSample& d, const Slots& s, int64_t k) const;
  void ten_crop_into(const DecodedSample& d, const Slots& s, int64_t k) const;
  void write_targets(const Views& geo, const Slots& s, int64_t k, int64_t index) const;

  // Writes one S x S crop into image slot `c` of sample `k` (ten-crop: c < 10).
  void collate(const cv::Mat& crop, const Slots& s, int64_t k, int c, bool channels_last,
               bool flip) const;
};

}  // namespace scenery::data
