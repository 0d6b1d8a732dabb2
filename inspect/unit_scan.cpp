#include "inspect/unit_scan.h"

#include <fmt/core.h>
#include <tbb/parallel_for.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <map>

#include "core/error.h"
#include "inspect/squash.h"
#include "inspect/unit_quantile.h"
#include "models/layer_taps.h"

namespace scenery::inspect {
namespace F = torch::nn::functional;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct DecodedImages {
  std::vector<size_t> kept;  // indices into the scanned images
  std::vector<cv::Mat> rgb;  // per kept image, when asked
  torch::Tensor inputs;      // N x 3 x S x S
  std::vector<std::pair<size_t, std::string>> failures;
};

DecodedImages decode_images(const std::vector<UnitImage>& images, const std::vector<size_t>& which,
                            const UnitScanOptions& o, bool keep_rgb) {
  const size_t n = which.size();
  std::vector<cv::Mat> rgb(n);
  std::vector<torch::Tensor> tensors(n);
  std::vector<std::string> errors(n);
  tbb::parallel_for(size_t{0}, n, [&](size_t i) {
    try {
      const cv::Mat image = data::decode_rgb(images[which[i]].image, o.max_pixels);
      tensors[i] = squashed_input(image, o.input_size, o.normalize);
      if (keep_rgb) rgb[i] = image;
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  });
  DecodedImages out;
  std::vector<torch::Tensor> kept;
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      out.failures.emplace_back(which[i], errors[i]);
      continue;
    }
    out.kept.push_back(which[i]);
    if (keep_rgb) out.rgb.push_back(rgb[i]);
    kept.push_back(tensors[i]);
  }
  if (!kept.empty()) out.inputs = torch::stack(kept);
  return out;
}

// Keeps a unit's `k` best images, highest first; a tie keeps the earlier image.
void offer(std::vector<TopActivation>& top, size_t k, TopActivation candidate) {
  if (top.size() == k && !(candidate.value > top.back().value)) return;
  const auto at = std::upper_bound(
      top.begin(), top.end(), candidate,
      [](const TopActivation& a, const TopActivation& b) { return a.value > b.value; });
  top.insert(at, candidate);
  if (top.size() > k) top.pop_back();
}

cv::Mat composite(const cv::Mat& rgb, const cv::Mat& mask) {
  cv::Mat out(rgb.size(), CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* src = rgb.ptr<cv::Vec3b>(y);
    const auto* m = mask.ptr<uint8_t>(y);
    auto* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      const float w = m[x] ? 1.0f : 0.2f;  // mask * 0.8 + 0.2
      for (int c = 0; c < 3; ++c)
        dst[x][c] = cv::saturate_cast<uint8_t>(static_cast<float>(src[x][c]) * w);
    }
  }
  return out;
}

struct BatchCache {
  std::vector<size_t> images;
  std::vector<torch::Tensor> features;  // per layer, B x U x h x w, CPU float
};

}  // namespace

cv::Mat draw_threshold_region(const cv::Mat& rgb, const torch::Tensor& map, float threshold) {
  const auto up = F::interpolate(map.to(torch::kCPU, torch::kFloat32).unsqueeze(0).unsqueeze(0),
                                 F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{rgb.rows, rgb.cols})
                                     .mode(torch::kBilinear)
                                     .align_corners(false))
                      .squeeze(0)
                      .squeeze(0);
  const auto mask = (up > threshold).to(torch::kUInt8).contiguous();
  const cv::Mat m(rgb.rows, rgb.cols, CV_8U, mask.data_ptr<uint8_t>());
  return composite(rgb, m);
}

cv::Mat unit_segmentation_mask(const torch::Tensor& map, cv::Size size, double fraction) {
  const auto a = map.to(torch::kCPU, torch::kFloat32).abs().contiguous();
  cv::Mat m(static_cast<int>(a.size(0)), static_cast<int>(a.size(1)), CV_32F);
  std::copy_n(a.data_ptr<float>(), a.numel(), m.ptr<float>());
  cv::blur(m, m, cv::Size(3, 3));  // OpenCV's default border (reflect-101)
  double max_value = 0;
  cv::minMaxLoc(m, nullptr, &max_value);
  if (max_value > 0) m /= max_value;
  cv::Mat up;
  cv::resize(m, up, size, 0, 0, cv::INTER_LINEAR);
  cv::Mat mask = up > fraction;  // 255 where inside
  mask /= 255;
  return mask;
}

cv::Mat draw_segmentation(const cv::Mat& rgb, const torch::Tensor& map, double fraction) {
  return composite(rgb, unit_segmentation_mask(map, rgb.size(), fraction));
}

namespace {

// The argument checks scan_units makes before any work.
void check_unit_scan_options(const std::vector<UnitImage>& images, const UnitScanOptions& o) {
  if (images.empty()) throw EvalError("unit scan: no images");
  if (o.batch_size < 1 || o.top_images < 1 || o.input_size < 16 || o.thumbnail < 8) {
    throw EvalError(fmt::format(
        "unit scan: batch size {}, top images {}, input size {}, thumbnail {} out of range",
        o.batch_size, o.top_images, o.input_size, o.thumbnail));
  }
  if (o.picture == UnitPicture::kThresholdRegion && !o.dissect)
    throw EvalError("unit scan: threshold-region pictures need the dissection's thresholds");
}

// True when every image has an annotation, false when none has; a mix is a
// DataError naming the first image without one.
bool every_unit_image_annotated(const std::vector<UnitImage>& images) {
  const size_t with_annotation = static_cast<size_t>(std::count_if(
      images.begin(), images.end(), [](const UnitImage& i) { return !i.annotation.empty(); }));
  if (with_annotation != 0 && with_annotation != images.size()) {
    const auto missing = std::find_if(images.begin(), images.end(),
                                      [](const UnitImage& i) { return i.annotation.empty(); });
    throw DataError(fmt::format("{}: no annotation, while {} of the {} images have one",
                                missing->image.string(), with_annotation, images.size()));
  }
  return with_annotation == images.size();
}

// Where one of a unit's top images goes: (layer, unit, rank in its strip).
struct UnitStripCell {
  size_t layer;
  int64_t unit;
  int rank;
};
// The cells each image is drawn into, by image index.
using UnitStripPlan = std::map<size_t, std::vector<UnitStripCell>>;

// What pass 2 needs of one batch: the activations of `members` (in that
// order) and the RGB images of those it draws.
struct UnitPass2Batch {
  std::vector<size_t> members;
  std::vector<torch::Tensor> features;
  std::map<size_t, cv::Mat> rgb;
};

// The two passes of scan_units over `images`, filling `scan`.
class UnitScanPasses {
 public:
  UnitScanPasses(const models::LayerTaps& taps, torch::Device device,
                 const std::vector<UnitImage>& images, const UnitScanOptions& o, UnitScan& scan)
      : taps_(taps), device_(device), images_(images), o_(o), scan_(scan) {}

  // Pass 1: top images per unit, the quantile, and the activations when they fit.
  void first_pass() {
    const auto start = Clock::now();
    const auto batch = static_cast<size_t>(o_.batch_size);
    for (size_t begin = 0; begin < images_.size(); begin += batch) {
      const size_t end = std::min(images_.size(), begin + batch);
      std::vector<size_t> which;
      for (size_t i = begin; i < end; ++i)
        which.push_back(i);
      DecodedImages decoded = decode_images(images_, which, o_, false);
      scan_.skipped.insert(scan_.skipped.end(), decoded.failures.begin(), decoded.failures.end());
      if (decoded.kept.empty()) continue;
      auto features = forward(decoded.inputs);
      if (scan_.layers.empty()) open_layers(features);
      rank_images(features, decoded.kept);
      scan_.images += static_cast<int64_t>(decoded.kept.size());
      batches_.push_back(
          {decoded.kept, cache_ ? std::move(features) : std::vector<torch::Tensor>{}});
      if (o_.progress) o_.progress(fmt::format("pass 1: {}/{} images", end, images_.size()));
    }
    if (scan_.images == 0) {
      throw EvalError(fmt::format("unit scan: none of the {} images decoded (first: {})",
                                  images_.size(), scan_.skipped.front().second));
    }
    for (size_t l = 0; l < scan_.layers.size(); ++l) {
      if (o_.dissect) scan_.layers[l].thresholds = quantiles_[l].thresholds();
      if (scan_.annotated) scan_.layers[l].iou.emplace(scan_.layers[l].units, o_.classes);
    }
    scan_.cached = cache_;
    scan_.pass1_seconds = seconds_since(start);
  }

  // Pass 2: IoU sums and drawings.
  void second_pass() {
    const auto start = Clock::now();
    const UnitStripPlan plan = plan_strips();
    size_t done = 0;
    for (auto& batch : batches_) {
      done += batch.images.size();
      std::vector<size_t> drawn;
      for (size_t i : batch.images)
        if (plan.count(i)) drawn.push_back(i);
      if (!scan_.annotated && drawn.empty()) continue;
      const UnitPass2Batch inputs = reload(batch, drawn);
      if (scan_.annotated) add_iou(inputs);
      draw(inputs, plan);
      if (o_.progress) o_.progress(fmt::format("pass 2: {}/{} images", done, scan_.images));
    }
    scan_.pass2_seconds = seconds_since(start);
  }

 private:
  std::vector<torch::Tensor> forward(const torch::Tensor& inputs) const {
    const auto x = inputs.to(device_).contiguous(torch::MemoryFormat::ChannelsLast);
    auto features = taps_.run(x, o_.layers);
    for (auto& f : features)
      f = f.to(torch::kCPU, torch::kFloat32).contiguous();
    return features;
  }

  // On the first decoded batch: the layers' shapes, their quantile
  // accumulators, and whether every activation fits in the cache.
  void open_layers(const std::vector<torch::Tensor>& features) {
    int64_t bytes_per_image = 0;
    for (size_t l = 0; l < o_.layers.size(); ++l) {
      const auto& f = features[l];
      if (f.dim() != 4) {
        throw ModelError(fmt::format("layer '{}' gives a {}-d output, not N x C x h x w",
                                     o_.layers[l], f.dim()));
      }
      LayerUnits layer;
      layer.layer = o_.layers[l];
      layer.units = f.size(1);
      layer.height = f.size(2);
      layer.width = f.size(3);
      layer.top.resize(static_cast<size_t>(layer.units));
      scan_.layers.push_back(std::move(layer));
      if (o_.dissect) {
        quantiles_.emplace_back(
            f.size(1), static_cast<int64_t>(images_.size()) * f.size(2) * f.size(3), o_.quantile);
      }
      bytes_per_image += f.size(1) * f.size(2) * f.size(3) * 4;
    }
    cache_ = bytes_per_image * static_cast<int64_t>(images_.size()) <= o_.cache_bytes;
  }

  // Offers the batch's images (`kept`) to every unit's top list, by spatial maximum.
  void rank_images(const std::vector<torch::Tensor>& features, const std::vector<size_t>& kept) {
    for (size_t l = 0; l < scan_.layers.size(); ++l) {
      LayerUnits& layer = scan_.layers[l];
      const auto& f = features[l];
      if (o_.dissect) quantiles_[l].add(f);
      const auto maxima = f.amax({2, 3}).contiguous();  // B x U
      const float* m = maxima.data_ptr<float>();
      const auto b = static_cast<size_t>(maxima.size(0));
      tbb::parallel_for(int64_t{0}, layer.units, [&](int64_t u) {
        for (size_t k = 0; k < b; ++k) {
          offer(layer.top[static_cast<size_t>(u)], static_cast<size_t>(o_.top_images),
                {kept[k], m[k * static_cast<size_t>(layer.units) + static_cast<size_t>(u)]});
        }
      });
    }
  }

  // Blank strips, and which (layer, unit, rank) each image is drawn for.
  UnitStripPlan plan_strips() {
    UnitStripPlan plan;
    for (size_t l = 0; l < scan_.layers.size() && o_.draw; ++l) {
      LayerUnits& layer = scan_.layers[l];
      layer.strips.resize(static_cast<size_t>(layer.units));
      for (int64_t u = 0; u < layer.units; ++u) {
        const auto& top = layer.top[static_cast<size_t>(u)];
        layer.strips[static_cast<size_t>(u)] =
            cv::Mat(o_.thumbnail, o_.thumbnail * static_cast<int>(top.size()), CV_8UC3,
                    cv::Scalar(255, 255, 255));
        for (size_t r = 0; r < top.size(); ++r)
          plan[top[r].image].push_back({l, u, static_cast<int>(r)});
      }
    }
    return plan;
  }

  // The batch's activations (cached, or from running the network again) and
  // the RGB images of its `drawn` members.
  UnitPass2Batch reload(BatchCache& batch, const std::vector<size_t>& drawn) const {
    UnitPass2Batch out;
    // Every image for the IoU sums, else only the drawn ones.
    out.members = cache_ || scan_.annotated ? batch.images : drawn;
    out.features = std::move(batch.features);
    if (!cache_) {
      DecodedImages decoded = decode_images(images_, out.members, o_, true);
      if (!decoded.failures.empty()) {
        throw DataError(fmt::format("{}: decoded in the first pass but not in the second: {}",
                                    images_[decoded.failures.front().first].image.string(),
                                    decoded.failures.front().second));
      }
      out.features = forward(decoded.inputs);
      for (size_t k = 0; k < decoded.kept.size(); ++k)
        out.rgb[decoded.kept[k]] = decoded.rgb[k];
    } else if (!drawn.empty()) {
      std::vector<cv::Mat> decoded(drawn.size());
      tbb::parallel_for(size_t{0}, drawn.size(), [&](size_t k) {
        decoded[k] = data::decode_rgb(images_[drawn[k]].image, o_.max_pixels);
      });
      for (size_t k = 0; k < drawn.size(); ++k)
        out.rgb[drawn[k]] = decoded[k];
    }
    return out;
  }

  // Adds the batch to every layer's IoU sums against the images' annotations.
  void add_iou(const UnitPass2Batch& batch) {
    const std::vector<size_t>& members = batch.members;
    std::vector<cv::Mat> labels(members.size());
    tbb::parallel_for(size_t{0}, labels.size(), [&](size_t k) {
      labels[k] = data::decode_label_png(images_[members[k]].annotation, o_.max_pixels);
    });
    for (size_t k = 0; k < labels.size(); ++k) {
      const cv::Mat& label = labels[k];
      const auto t = torch::from_blob(label.data, {label.rows, label.cols, 1},
                                      {static_cast<int64_t>(label.step[0]), 1, 1}, torch::kUInt8)
                         .squeeze(2);
      for (size_t l = 0; l < scan_.layers.size(); ++l) {
        LayerUnits& layer = scan_.layers[l];
        try {
          layer.iou->add(batch.features[l][static_cast<int64_t>(k)], layer.thresholds, t);
        } catch (const EvalError& e) {
          throw DataError(fmt::format("{}: {}", images_[members[k]].annotation.string(), e.what()));
        }
      }
    }
  }

  // Draws the batch's images into the strip cells `plan` assigns them.
  void draw(const UnitPass2Batch& batch, const UnitStripPlan& plan) {
    const std::vector<size_t>& members = batch.members;
    std::vector<std::pair<size_t, UnitStripCell>> work;
    for (size_t k = 0; k < members.size(); ++k) {
      const auto it = plan.find(members[k]);
      if (it == plan.end()) continue;
      for (const auto& d : it->second)
        work.emplace_back(k, d);
    }
    std::map<size_t, cv::Mat> thumbs;
    for (const auto& [k, d] : work) {
      const size_t image = members[k];
      if (!thumbs.count(image)) thumbs[image] = squash(batch.rgb.at(image), o_.thumbnail);
    }
    tbb::parallel_for(size_t{0}, work.size(), [&](size_t w) {
      const auto& [k, d] = work[w];
      const LayerUnits& layer = scan_.layers[d.layer];
      const auto map = batch.features[d.layer][static_cast<int64_t>(k)][d.unit];
      const cv::Mat& thumb = thumbs.at(members[k]);
      const cv::Mat picture =
          o_.picture == UnitPicture::kThresholdRegion
              ? draw_threshold_region(thumb, map, layer.thresholds[static_cast<size_t>(d.unit)])
              : draw_segmentation(thumb, map, o_.segment_fraction);
      picture.copyTo(layer.strips[static_cast<size_t>(d.unit)](
          cv::Rect(d.rank * o_.thumbnail, 0, o_.thumbnail, o_.thumbnail)));
    });
  }

  const models::LayerTaps& taps_;
  const torch::Device device_;
  const std::vector<UnitImage>& images_;
  const UnitScanOptions& o_;
  UnitScan& scan_;
  std::vector<UnitQuantile> quantiles_;  // per layer (dissect)
  std::vector<BatchCache> batches_;      // pass 1's batches, with activations when cached
  bool cache_ = true;                    // pass 2 reads the activations from batches_
};

}  // namespace

UnitScan scan_units(models::SceneModel& model, torch::Device device,
                    const std::vector<UnitImage>& images, const UnitScanOptions& o) {
  check_unit_scan_options(images, o);
  const models::LayerTaps taps(model);
  taps.check(o.layers);
  torch::NoGradGuard no_grad;
  model.eval();

  UnitScan scan;
  const bool all_annotated = every_unit_image_annotated(images);  // checked even without dissect
  scan.annotated = o.dissect && all_annotated;
  UnitScanPasses passes(taps, device, images, o, scan);
  passes.first_pass();
  passes.second_pass();
  return scan;
}

}  // namespace scenery::inspect
