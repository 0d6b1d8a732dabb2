// Per-sample assembly for the loader (data/loader_worker.h): batch tensors
// allocated (and reused) once per batch, then each sample decoded, transformed
// and written straight into its slot of them.
#include "data/loader_worker.h"

#include <fmt/core.h>

#include <utility>

#include "core/error.h"
#include "core/torch_compat.h"
#include "data/pil_resample.h"
#include "data/sample_bytes.h"
#include "data/semantic_input.h"

namespace scenery::data {

using loader_detail::output_size;

namespace {

// Names distinct within the library: it is built in unity batches.
bool loader_storage_unshared(const torch::Tensor& t) {
  return !t.defined() || (t.use_count() == 1 && t.storage().use_count() == 1);
}

}  // namespace

Loader::Worker::Worker(const Catalog& c, const LoaderOptions& opts)
    : catalog(c), o(opts), arena(opts.workers) {}

Loader::Worker::Slots Loader::Worker::acquire(int64_t n) {
  if (n == o.batch_size) {
    for (const Slots& s : pool)
      if (loader_storage_unshared(s.images) && loader_storage_unshared(s.labels) &&
          loader_storage_unshared(s.masks) && loader_storage_unshared(s.sem_channels) &&
          loader_storage_unshared(s.sem_scores) && loader_storage_unshared(s.indices) &&
          loader_storage_unshared(s.erase))
        return s;
  }
  Slots s = allocate(n);
  if (n == o.batch_size && static_cast<int>(pool.size()) < o.prefetch + 2) pool.push_back(s);
  return s;
}

Loader::Worker::Slots Loader::Worker::allocate(int64_t n) const {
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

std::string Loader::Worker::name_failure(int64_t index, const std::string& what) const {
  const Sample sample = catalog.at(static_cast<size_t>(index));
  const std::string reason = what.empty() ? "unknown error" : what;
  for (const auto* path :
       {&sample.image, &sample.mask, &sample.semantic_classes, &sample.semantic_scores})
    if (!path->empty() && reason.find(path->string()) != std::string::npos) return reason;
  return fmt::format("{}: {}", sample.image.string(), reason);
}

void Loader::Worker::load(int64_t index, int64_t epoch, const Slots& s, int64_t k) const {
  const Sample sample = catalog.at(static_cast<size_t>(index));
  const DecodedSample decoded = decode_sample(sample, index, epoch);
  Views geo;  // mask / semantic views after the image's geometry
  if (o.mode == LoaderMode::kTrain)
    geo = train_into(decoded, s, k);
  else if (o.mode == LoaderMode::kEval)
    geo = eval_into(decoded, s, k);
  else
    ten_crop_into(decoded, s, k);
  write_targets(geo, s, k, index);
}

Loader::Worker::DecodedSample Loader::Worker::decode_sample(const Sample& sample, int64_t index,
                                                            int64_t epoch) const {
  DecodedSample d;
  // Training decodes only the random crop's neighbourhood of a JPEG (the
  // geometry is drawn from the header's size); same pixels, less work.
  const auto bytes = [&](SampleFile f) { return read_sample_bytes(sample, f, o.max_image_pixels); };
  if (o.mode == LoaderMode::kTrain) {
    Rng rng = Rng::for_sample(o.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index));
    d.image = decode_rgb_region_bytes(
        bytes(SampleFile::kImage), sample.image.string(),
        [&](cv::Size size) {
          d.geometry = sample_train_geometry(size, o.train, rng);
          return d.geometry.box.rect();
        },
        o.max_image_pixels);
  } else {
    d.image.pixels =
        decode_rgb_bytes(bytes(SampleFile::kImage), sample.image.string(), o.max_image_pixels);
    d.image.full = d.image.pixels.size();
  }
  Views& v = d.views;
  const bool need_mask = o.load_masks || o.semantic == SemanticSource::kMasks;
  if (need_mask) {
    if (sample.mask.empty())
      throw DataError(fmt::format("{}: no annotation mask in the catalog", sample.image.string()));
    v.mask =
        decode_label_png_bytes(bytes(SampleFile::kMask), sample.mask.string(), o.max_image_pixels);
  }
  if (o.semantic == SemanticSource::kTop3) {
    if (sample.semantic_classes.empty() || sample.semantic_scores.empty())
      throw DataError(
          fmt::format("{}: no precomputed semantic maps in the catalog", sample.image.string()));
    v.sem_classes = decode_raw3_png_bytes(bytes(SampleFile::kSemanticClasses),
                                          sample.semantic_classes.string(), o.max_image_pixels);
    v.sem_scores = decode_raw3_png_bytes(bytes(SampleFile::kSemanticScores),
                                         sample.semantic_scores.string(), o.max_image_pixels);
  }
  for (const auto& [m, path] :
       {std::pair{&v.mask, &sample.mask}, std::pair{&v.sem_classes, &sample.semantic_classes},
        std::pair{&v.sem_scores, &sample.semantic_scores}})
    if (!m->empty() && m->size() != d.image.full)
      throw DataError(fmt::format("{}: {}x{} but its image {} is {}x{}", path->string(), m->cols,
                                  m->rows, sample.image.string(), d.image.full.width,
                                  d.image.full.height));
  return d;
}

void Loader::Worker::collate(const cv::Mat& crop, const Slots& s, int64_t k, int c,
                             bool channels_last, bool flip) const {
  const size_t offset = k * s.image_stride + static_cast<size_t>(c) * 3 * crop.total();
  if (o.uint8_images)
    write_rgb8_into(crop, s.pixel_ptr + offset, channels_last, flip);
  else
    normalize_into(crop, o.normalize, s.image_ptr + offset, channels_last, flip);
}

// RandomResizedCrop + flip (+ jitter, + random erasing) of the decoded region.
Views Loader::Worker::train_into(const DecodedSample& d, const Slots& s, int64_t k) const {
  const int S = output_size(o);
  const TrainGeometry& g = d.geometry;
  const cv::Mat region = d.image.region(g.box.rect());
  const bool jitter = !g.jitter.identity();
  cv::Mat image;  // the final S x S RGB crop
  bool collated = false;
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
  auto follow = [&](const cv::Mat& m) {
    if (m.empty()) return cv::Mat();
    cv::Mat r = crop_resize(m, g.box, {S, S}, Interp::kNearest);
    return g.flip ? hflip(r) : r;
  };
  Views geo;
  geo.mask = follow(d.views.mask);
  geo.sem_classes = follow(d.views.sem_classes);
  geo.sem_scores = follow(d.views.sem_scores);
  // The flip is folded into collate: no flipped copy of the image.
  if (!collated) collate(image, s, k, 0, o.channels_last, g.flip);
  if (s.erase_ptr) {
    int32_t* box = s.erase_ptr + 4 * k;  // erased by the consumer, after normalising
    box[0] = g.erase.x, box[1] = g.erase.y, box[2] = g.erase.width, box[3] = g.erase.height;
  } else if (g.erase.width > 0) {
    erase_normalized(s.image_ptr + k * s.image_stride, S, g.erase, o.channels_last);
  }
  return geo;
}

// Resize + CenterCrop: eval_transform without its defensive copies. The centre
// crop stays a view into the resized image (for 256x256 Places images, of the
// decoded one).
Views Loader::Worker::eval_into(const DecodedSample& d, const Slots& s, int64_t k) const {
  const cv::Size rs = resized_size(d.image.full, o.eval.resize);
  const cv::Rect box = center_crop_box(rs, o.eval.crop).rect();
  auto follow = [&](const cv::Mat& m, Interp interp) {
    if (m.empty()) return cv::Mat();
    return crop_resize(m, {0, 0, m.cols, m.rows}, rs, interp)(box);
  };
  // Only the centre crop of the resized image is computed.
  const cv::Mat image = pil_resize(d.image.pixels, rs, box);
  Views geo;
  geo.mask = follow(d.views.mask, Interp::kNearest);
  geo.sem_classes = follow(d.views.sem_classes, Interp::kNearest);
  geo.sem_scores = follow(d.views.sem_scores, Interp::kNearest);
  collate(image, s, k, 0, o.channels_last, false);
  return geo;
}

// Resize + TenCrop into the sample's ten image slots (images only).
void Loader::Worker::ten_crop_into(const DecodedSample& d, const Slots& s, int64_t k) const {
  const auto crops = ten_crop(d.image.pixels, o.eval);
  for (int c = 0; c < 10; ++c)
    collate(crops[c], s, k, c, false, false);
}

// What follows the image into the batch: its mask, semantic input, label and index.
void Loader::Worker::write_targets(const Views& geo, const Slots& s, int64_t k,
                                   int64_t index) const {
  const int S = output_size(o);
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

}  // namespace scenery::data
