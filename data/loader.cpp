#include "data/loader.h"

#include <fmt/core.h>

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"
#include "data/data_options.h"
#include "data/decode.h"
#include "data/pil_resample.h"

namespace scenery::data {

OnError parse_on_error(const std::string& name) {
  if (name == "skip") return OnError::kSkip;
  if (name == "fail") return OnError::kFail;
  throw ConfigError(fmt::format("data.on_error: expected 'skip' or 'fail', got '{}'", name));
}

LoaderOptions loader_options_from_config(const Config& c, bool train) {
  LoaderOptions o;
  auto get_int = [&](const char* key, auto fallback) {
    return c.has(key) ? c.get<int>(key) : fallback;
  };
  o.batch_size = get_int("data.batch_size", 32);
  o.workers = get_int("data.workers", 2);
  o.prefetch = get_int("data.prefetch", 4);
  if (c.has("data.seed")) o.seed = static_cast<uint64_t>(c.get<int64_t>("data.seed"));
  if (c.has("data.on_error")) o.on_error = parse_on_error(c.get<std::string>("data.on_error"));
  if (c.has("data.max_image_pixels")) o.max_image_pixels = max_image_pixels_from_config(c);
  const int image_size = get_int("data.image_size", 224);
  o.train.crop.size = image_size;
  if (train && c.has("data.crop_scale")) {
    std::tie(o.train.crop.scale_min, o.train.crop.scale_max) =
        range_from_config(c, "data.crop_scale", 1e-6, 1.0);
    std::tie(o.train.crop.ratio_min, o.train.crop.ratio_max) =
        range_from_config(c, "data.crop_ratio", 1e-3, 1e3);
    auto within = [&](const char* key, double max) {
      const double v = c.get<double>(key);
      if (v < 0 || v > max)
        throw ConfigError(fmt::format("{}: expected 0..{}, got {}", key, max, v));
      return v;
    };
    o.train.jitter = {within("data.brightness", 1e3), within("data.contrast", 1e3),
                      within("data.saturation", 1e3), within("data.hue", 0.5)};
    o.train.erasing.probability = within("data.random_erasing", 1.0);
    std::tie(o.train.erasing.scale_min, o.train.erasing.scale_max) =
        range_from_config(c, "data.erasing_scale", 1e-6, 1.0);
    std::tie(o.train.erasing.ratio_min, o.train.erasing.ratio_max) =
        range_from_config(c, "data.erasing_ratio", 1e-3, 1e3);
  }
  o.eval.crop = image_size;
  o.eval.resize = get_int("data.resize", 256);
  o.mode = train ? LoaderMode::kTrain : LoaderMode::kEval;
  o.shuffle = train;
  return o;
}

namespace {

int output_size(const LoaderOptions& o) {
  return o.mode == LoaderMode::kTrain ? o.train.crop.size : o.eval.crop;
}

}  // namespace

// Named (not anonymous) because Loader::Worker holds it.
namespace loader_detail {

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

}  // namespace loader_detail
using loader_detail::Slots;

struct Loader::Worker {
  const Catalog& catalog;
  const LoaderOptions& o;
  tbb::task_arena arena;

  // Full-size batch buffers handed out before; reused once nobody else holds
  // their storage (a consumer keeping a batch or a view of it keeps it alive).
  // Why: a fresh 19 MB batch costs thousands of page faults (~10% of the
  // loader's time in profiles); reuse keeps memory flat and warm.
  std::vector<Slots> pool;

  Worker(const Catalog& c, const LoaderOptions& opts) : catalog(c), o(opts), arena(opts.workers) {}

  static bool unshared(const torch::Tensor& t) {
    return !t.defined() || (t.use_count() == 1 && t.storage().use_count() == 1);
  }

  // Only the producer thread calls this.
  Slots acquire(int64_t n) {
    if (n == o.batch_size) {
      for (const Slots& s : pool)
        if (unshared(s.images) && unshared(s.labels) && unshared(s.masks) &&
            unshared(s.sem_channels) && unshared(s.sem_scores) && unshared(s.indices) &&
            unshared(s.erase))
          return s;
    }
    Slots s = allocate(n);
    if (n == o.batch_size && static_cast<int>(pool.size()) < o.prefetch + 2) pool.push_back(s);
    return s;
  }

  Slots allocate(int64_t n) const {
    const int64_t S = output_size(o);
    auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    if (o.pin_memory && compat::cuda_available()) opts = opts.pinned_memory(true);
    Slots s;
    const auto image_opts = o.uint8_images ? opts.dtype(torch::kUInt8) : opts;
    if (o.mode == LoaderMode::kTenCrop) {
      s.images = torch::empty({n, 10, 3, S, S}, image_opts);
      s.image_stride = 10 * 3 * S * S;
    } else {
      s.images = o.channels_last
                     ? torch::empty({n, 3, S, S},
                                    image_opts.memory_format(torch::MemoryFormat::ChannelsLast))
                     : torch::empty({n, 3, S, S}, image_opts);
      s.image_stride = 3 * S * S;
    }
    if (o.uint8_images)
      s.pixel_ptr = s.images.data_ptr<uint8_t>();
    else
      s.image_ptr = s.images.data_ptr<float>();
    if (o.load_masks) {
      s.masks = torch::empty({n, S, S}, opts.dtype(torch::kInt64));
      s.mask_ptr = s.masks.data_ptr<int64_t>();
      s.mask_stride = S * S;
    }
    if (o.semantic != SemanticSource::kNone) {
      const int64_t K = o.semantic == SemanticSource::kTop3 ? kTop3Slots : kMaskSlots;
      s.sem_channels = torch::empty({n, K, S, S}, opts.dtype(torch::kUInt8));
      s.sem_channel_ptr = s.sem_channels.data_ptr<uint8_t>();
      if (o.semantic == SemanticSource::kTop3) {
        s.sem_scores = torch::empty({n, K, S, S}, opts);
        s.sem_score_ptr = s.sem_scores.data_ptr<float>();
      }
      s.sem_stride = static_cast<size_t>(K) * S * S;
    }
    s.labels = torch::empty({n}, torch::kInt64);
    s.indices = torch::empty({n}, torch::kInt64);
    if (o.uint8_images && o.mode == LoaderMode::kTrain && o.train.erasing.probability > 0) {
      s.erase = torch::zeros({n, 4}, torch::kInt32);
      s.erase_ptr = s.erase.data_ptr<int32_t>();
    }
    return s;
  }

  // The message of a failed load, naming a file of the sample: DataErrors
  // already do; anything else (std::bad_alloc, cv::Exception) gets the image's
  // path in front, so no warning ever names only an index or a what().
  std::string name_failure(int64_t index, const std::string& what) const {
    const Sample sample = catalog.at(static_cast<size_t>(index));
    const std::string reason = what.empty() ? "unknown error" : what;
    for (const auto* path :
         {&sample.image, &sample.mask, &sample.semantic_classes, &sample.semantic_scores})
      if (!path->empty() && reason.find(path->string()) != std::string::npos) return reason;
    return fmt::format("{}: {}", sample.image.string(), reason);
  }

  // Decodes and transforms catalog sample `index` into slot `k`. Throws
  // DataError naming the file on any bad input.
  void load(int64_t index, int64_t epoch, const Slots& s, int64_t k) const {
    const Sample sample = catalog.at(static_cast<size_t>(index));
    Views v;
    // Training decodes only the random crop's neighbourhood of a JPEG (the
    // geometry is drawn from the header's size); same pixels, less work.
    PartialImage decoded;
    TrainGeometry g;
    if (o.mode == LoaderMode::kTrain) {
      Rng rng = Rng::for_sample(o.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index));
      decoded = decode_rgb_region(
          sample.image,
          [&](cv::Size size) {
            g = sample_train_geometry(size, o.train, rng);
            return g.box.rect();
          },
          o.max_image_pixels);
    } else {
      decoded.pixels = decode_rgb(sample.image, o.max_image_pixels);
      decoded.full = decoded.pixels.size();
    }
    const bool need_mask = o.load_masks || o.semantic == SemanticSource::kMasks;
    if (need_mask) {
      if (sample.mask.empty())
        throw DataError(
            fmt::format("{}: no annotation mask in the catalog", sample.image.string()));
      v.mask = decode_label_png(sample.mask, o.max_image_pixels);
    }
    if (o.semantic == SemanticSource::kTop3) {
      if (sample.semantic_classes.empty() || sample.semantic_scores.empty())
        throw DataError(
            fmt::format("{}: no precomputed semantic maps in the catalog", sample.image.string()));
      v.sem_classes = decode_raw3_png(sample.semantic_classes, o.max_image_pixels);
      v.sem_scores = decode_raw3_png(sample.semantic_scores, o.max_image_pixels);
    }
    for (const auto& [m, path] :
         {std::pair{&v.mask, &sample.mask}, std::pair{&v.sem_classes, &sample.semantic_classes},
          std::pair{&v.sem_scores, &sample.semantic_scores}})
      if (!m->empty() && m->size() != decoded.full)
        throw DataError(fmt::format("{}: {}x{} but its image {} is {}x{}", path->string(), m->cols,
                                    m->rows, sample.image.string(), decoded.full.width,
                                    decoded.full.height));

    // Writes one S x S crop into image slot `c` of this sample (ten-crop: c < 10).
    auto collate = [&](const cv::Mat& crop, int c, bool channels_last, bool flip) {
      const size_t offset = k * s.image_stride + static_cast<size_t>(c) * 3 * crop.total();
      if (o.uint8_images)
        write_rgb8_into(crop, s.pixel_ptr + offset, channels_last, flip);
      else
        normalize_into(crop, o.normalize, s.image_ptr + offset, channels_last, flip);
    };
    const int S = output_size(o);
    cv::Mat image;  // the final S x S RGB crop
    bool mirror = false;
    Views geo;  // mask / semantic views after the same geometry
    bool collated = false;
    if (o.mode == LoaderMode::kTrain) {
      const cv::Mat region = decoded.region(g.box.rect());
      const bool jitter = !g.jitter.identity();
      if (!jitter && !o.uint8_images) {
        // Resampled rows are normalised straight into the batch (same bits
        // as resize, then normalize_into; the flip reverses the taps).
        pil_resize_normalize_into(region, {S, S}, {}, o.normalize, s.image_ptr + k * s.image_stride,
                                  o.channels_last, g.flip);
        collated = true;
      } else {
        image = crop_resize(region, {0, 0, region.cols, region.rows}, {S, S});
        if (jitter) {
          if (image.data == region.data) image = image.clone();
          apply_jitter(image, g.jitter);
        }
      }
      mirror = g.flip;  // folded into collate: no flipped copy of the image
      auto follow = [&](const cv::Mat& m) {
        if (m.empty()) return cv::Mat();
        cv::Mat r = crop_resize(m, g.box, {S, S}, Interp::kNearest);
        return g.flip ? hflip(r) : r;
      };
      geo.mask = follow(v.mask);
      geo.sem_classes = follow(v.sem_classes);
      geo.sem_scores = follow(v.sem_scores);
    } else if (o.mode == LoaderMode::kEval) {
      // eval_transform without its defensive copies: the centre crop stays a
      // view into the resized image (for 256x256 Places images, of the decoded one).
      const cv::Size rs = resized_size(decoded.full, o.eval.resize);
      const cv::Rect box = center_crop_box(rs, o.eval.crop).rect();
      auto follow = [&](const cv::Mat& m, Interp interp) {
        if (m.empty()) return cv::Mat();
        return crop_resize(m, {0, 0, m.cols, m.rows}, rs, interp)(box);
      };
      // Only the centre crop of the resized image is computed.
      image = pil_resize(decoded.pixels, rs, box);
      geo.mask = follow(v.mask, Interp::kNearest);
      geo.sem_classes = follow(v.sem_classes, Interp::kNearest);
      geo.sem_scores = follow(v.sem_scores, Interp::kNearest);
    } else {
      const auto crops = ten_crop(decoded.pixels, o.eval);
      for (int c = 0; c < 10; ++c)
        collate(crops[c], c, false, false);
    }
    if (o.mode != LoaderMode::kTenCrop && !collated) collate(image, 0, o.channels_last, mirror);
    if (o.mode == LoaderMode::kTrain && s.erase_ptr) {
      int32_t* box = s.erase_ptr + 4 * k;  // erased by the consumer, after normalising
      box[0] = g.erase.x, box[1] = g.erase.y, box[2] = g.erase.width, box[3] = g.erase.height;
    } else if (o.mode == LoaderMode::kTrain && g.erase.width > 0) {
      erase_normalized(s.image_ptr + k * s.image_stride, S, g.erase, o.channels_last);
    }
    if (o.load_masks) {
      int64_t* dst = s.mask_ptr + k * s.mask_stride;
      for (int y = 0; y < S; ++y) {
        const uint8_t* row = geo.mask.ptr<uint8_t>(y);
        for (int x = 0; x < S; ++x)
          dst[y * S + x] = row[x];
      }
    }
    if (o.semantic == SemanticSource::kMasks)
      mask_to_semantic_slots(geo.mask, s.sem_channel_ptr + k * s.sem_stride);
    else if (o.semantic == SemanticSource::kTop3)
      top3_to_semantic_slots(geo.sem_classes, geo.sem_scores, s.sem_channel_ptr + k * s.sem_stride,
                             s.sem_score_ptr + k * s.sem_stride, o.semantic_coding);
    s.labels.data_ptr<int64_t>()[k] = catalog.label(static_cast<size_t>(index));
    s.indices.data_ptr<int64_t>()[k] = index;
  }
};

Loader::Loader(const Catalog& catalog, LoaderOptions options)
    : catalog_(catalog),
      options_(options),
      sampler_(static_cast<int64_t>(catalog.size()),
               SamplerOptions{options.batch_size, options.shuffle, options.seed, options.rank,
                              options.world_size, options.drop_last}) {
  if (options_.workers < 1)
    throw ConfigError(fmt::format("data.workers must be >= 1, got {}", options_.workers));
  if (options_.prefetch < 1)
    throw ConfigError(fmt::format("data.prefetch must be >= 1, got {}", options_.prefetch));
  if (output_size(options_) < 1) throw ConfigError("image size must be >= 1");
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

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop();
  sampler_.set_epoch(epoch);
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

namespace {
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
}  // namespace

// Why a tbb::parallel_pipeline rather than a parallel_for per batch: samples
// of consecutive batches overlap, so no thread idles at a batch boundary
// waiting for the slowest sample (with many threads and small batches that
// tail was a large share). The serial in-order stages keep creation and
// delivery in position order; the live-token limit bounds the work in flight
// (at most two batches under construction, plus `prefetch` in the queue).
void Loader::produce(int64_t epoch, int64_t first_batch) {
  int64_t skipped = 0;
  std::atomic<bool> finished{false};  // a terminal item was pushed, or pushing was refused
  try {
    const int64_t batches = sampler_.num_batches();
    int64_t pos = first_batch, k = 0;
    std::shared_ptr<BatchJob> current;
    // Hands a finished batch to the queue; false once the epoch must end here.
    auto deliver = [&](BatchJob& job) -> bool {
      const int64_t n = static_cast<int64_t>(job.indices.size());
      std::vector<int64_t> good;
      for (int64_t i = 0; i < n; ++i) {
        if (job.errors[i].empty()) {
          good.push_back(i);
          continue;
        }
        if (options_.on_error == OnError::kFail) {
          Item item;
          item.error = std::make_exception_ptr(DataError(job.errors[i]));
          push(std::move(item));
          return false;
        }
        log::warn("skipping unreadable sample {} (epoch {}, batch {}): {}", job.indices[i], epoch,
                  job.position, job.errors[i]);
        ++skipped;
        std::lock_guard<std::mutex> lock(mutex_);
        ++skipped_epoch_;
        ++skipped_total_;
      }
      if (good.empty()) return true;  // the whole batch was unreadable
      Batch b;
      b.epoch = epoch;
      b.position = job.position;
      const Slots& s = job.slots;
      if (static_cast<int64_t>(good.size()) == n) {
        b.images = s.images;
        b.labels = s.labels;
        b.masks = s.masks;
        b.semantic_channels = s.sem_channels;
        b.semantic_scores = s.sem_scores;
        b.indices = s.indices;
        b.erase = s.erase;
      } else {  // the batch shrinks: keep the readable samples, in order
        const auto keep = torch::tensor(good, torch::kInt64);
        auto pick = [&](const torch::Tensor& t) {
          if (!t.defined()) return t;
          auto out = t.index_select(0, keep);
          return out;
        };
        b.images = options_.channels_last && options_.mode != LoaderMode::kTenCrop
                       ? pick(s.images).contiguous(torch::MemoryFormat::ChannelsLast)
                       : pick(s.images);
        b.labels = pick(s.labels);
        b.masks = pick(s.masks);
        b.semantic_channels = pick(s.sem_channels);
        b.semantic_scores = pick(s.sem_scores);
        b.indices = pick(s.indices);
        b.erase = pick(s.erase);
      }
      Item item;
      item.batch = std::move(b);
      return push(std::move(item));
    };
    const size_t tokens = static_cast<size_t>(std::max(2, 2 * options_.workers));
    worker_->arena.execute([&] {
      tbb::parallel_pipeline(
          tokens, tbb::make_filter<void, SampleToken>(
                      tbb::filter_mode::serial_in_order,
                      [&](tbb::flow_control& fc) -> SampleToken {
                        if (stop_ || finished || pos >= batches) {
                          fc.stop();
                          return {};
                        }
                        if (!current) {
                          current = std::make_shared<BatchJob>();
                          current->position = pos;
                          current->indices = sampler_.batch(pos);
                          current->slots =
                              worker_->acquire(static_cast<int64_t>(current->indices.size()));
                          current->errors.resize(current->indices.size());
                        }
                        SampleToken t{current, k};
                        if (++k == static_cast<int64_t>(current->indices.size())) {
                          current.reset();
                          k = 0;
                          ++pos;
                        }
                        return t;
                      }) &
                      tbb::make_filter<SampleToken, SampleToken>(
                          tbb::filter_mode::parallel,
                          [&](SampleToken t) {
                            if (stop_ || finished) return t;
                            const int64_t index = t.job->indices[t.k];
                            try {
                              worker_->load(index, epoch, t.job->slots, t.k);
                            } catch (const std::exception& e) {
                              t.job->errors[t.k] = worker_->name_failure(index, e.what());
                            } catch (...) {
                              t.job->errors[t.k] = worker_->name_failure(index, "");
                            }
                            return t;
                          }) &
                      tbb::make_filter<SampleToken, void>(
                          tbb::filter_mode::serial_in_order, [&](SampleToken t) {
                            if (t.k + 1 != static_cast<int64_t>(t.job->indices.size())) return;
                            if (stop_ || finished) return;
                            if (!deliver(*t.job)) finished = true;
                          }));
    });
    if (stop_ || finished) return;
    if (skipped > 0)
      log::warn("epoch {}: skipped {} unreadable sample(s) of {} on rank {}", epoch, skipped,
                sampler_.shard_size(), options_.rank);
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
