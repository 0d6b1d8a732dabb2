#include "data/transforms.h"

#include <fmt/core.h>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/pil_resample.h"

namespace scenery::data {

int round_half_even(double v) {
  return static_cast<int>(std::nearbyint(v));
}

CropBox random_resized_crop_box(cv::Size image, const RandomResizedCropParams& p, Rng& rng) {
  const int width = image.width, height = image.height;
  if (width <= 0 || height <= 0)
    throw DataError(fmt::format("RandomResizedCrop: empty image {}x{}", width, height));
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(p.ratio_min), log_hi = std::log(p.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.uniform(p.scale_min, p.scale_max);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int y = static_cast<int>(rng.randint(0, height - h));
      const int x = static_cast<int>(rng.randint(0, width - w));
      return {x, y, w, h};
    }
  }
  // torchvision's fallback: the central crop, clamped to the ratio range.
  const double in_ratio = static_cast<double>(width) / height;
  const double rmin = std::min(p.ratio_min, p.ratio_max), rmax = std::max(p.ratio_min, p.ratio_max);
  int w = width, h = height;
  if (in_ratio < rmin) {
    h = round_half_even(w / rmin);
  } else if (in_ratio > rmax) {
    w = round_half_even(h * rmax);
  }
  return {(width - w) / 2, (height - h) / 2, w, h};
}

JitterFactors sample_jitter(const ColorJitterParams& p, Rng& rng) {
  JitterFactors f;
  for (int i = 3; i > 0; --i)  // a uniform permutation (Fisher-Yates)
    std::swap(f.order[i], f.order[rng.randint(0, i)]);
  auto draw = [&](double x) { return x > 0 ? rng.uniform(std::max(0.0, 1.0 - x), 1.0 + x) : 1.0; };
  f.brightness = draw(p.brightness);
  f.contrast = draw(p.contrast);
  f.saturation = draw(p.saturation);
  f.hue = p.hue > 0 ? rng.uniform(-p.hue, p.hue) : 0.0;
  return f;
}

namespace {

// Pillow's ImagingBlend(degenerate, image, alpha) for one 8-bit value: float
// arithmetic, truncated; clipped only when extrapolating (alpha outside 0..1).
inline uint8_t pil_blend(int degenerate, int value, float alpha) {
  const float v = static_cast<float>(degenerate) + alpha * static_cast<float>(value - degenerate);
  if (alpha >= 0 && alpha <= 1.0f) return static_cast<uint8_t>(v);
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v);
}

// Pillow's RGB -> "L" (ITU-R 601-2 luma in 16-bit fixed point, rounded).
inline int pil_luma(const uint8_t* p) {
  return (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16;
}

// Pillow's rgb2hsv / hsv2rgb (Convert.c), with their float/double mix.
inline void pil_rgb_to_hsv(const uint8_t* in, uint8_t* out) {
  const int r = in[0], g = in[1], b = in[2];
  const int maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
  out[2] = static_cast<uint8_t>(maxc);
  if (minc == maxc) {
    out[0] = out[1] = 0;
    return;
  }
  const float cr = static_cast<float>(maxc - minc);
  const float s = cr / static_cast<float>(maxc);
  const float rc = static_cast<float>(maxc - r) / cr, gc = static_cast<float>(maxc - g) / cr,
              bc = static_cast<float>(maxc - b) / cr;
  float h;
  if (r == maxc)
    h = bc - gc;
  else if (g == maxc)
    h = static_cast<float>(2.0 + rc - bc);
  else
    h = static_cast<float>(4.0 + gc - rc);
  h = static_cast<float>(std::fmod(h / 6.0 + 1.0, 1.0));
  out[0] = static_cast<uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
  out[1] = static_cast<uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
}

inline void pil_hsv_to_rgb(const uint8_t* in, uint8_t* out) {
  const int h = in[0], s = in[1], v = in[2];
  if (s == 0) {
    out[0] = out[1] = out[2] = static_cast<uint8_t>(v);
    return;
  }
  const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float f = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
  const float fs = static_cast<float>(static_cast<float>(s) / 255.0);
  auto channel = [&](double x) {
    return static_cast<uint8_t>(std::clamp(static_cast<int>(std::round(x)), 0, 255));
  };
  const uint8_t p = channel(static_cast<float>(v) * (1.0 - fs));
  const uint8_t q = channel(static_cast<float>(v) * (1.0 - fs * f));
  const uint8_t t = channel(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  const uint8_t V = static_cast<uint8_t>(v);
  switch (i % 6) {
    case 0:
      out[0] = V, out[1] = t, out[2] = p;
      break;
    case 1:
      out[0] = q, out[1] = V, out[2] = p;
      break;
    case 2:
      out[0] = p, out[1] = V, out[2] = t;
      break;
    case 3:
      out[0] = p, out[1] = q, out[2] = V;
      break;
    case 4:
      out[0] = t, out[1] = p, out[2] = V;
      break;
    default:
      out[0] = V, out[1] = p, out[2] = q;
      break;
  }
}

template <class F>
void for_each_pixel(cv::Mat& rgb, F&& f) {
  for (int y = 0; y < rgb.rows; ++y) {
    uint8_t* row = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x)
      f(row + 3 * x);
  }
}

void adjust_brightness(cv::Mat& rgb, float factor) {  // blend with black
  for_each_pixel(rgb, [&](uint8_t* p) {
    for (int c = 0; c < 3; ++c)
      p[c] = pil_blend(0, p[c], factor);
  });
}

void adjust_contrast(cv::Mat& rgb, float factor) {  // blend with the mean luma, rounded
  int64_t sum = 0;
  for_each_pixel(rgb, [&](uint8_t* p) { sum += pil_luma(p); });
  const double mean_value = static_cast<double>(sum) / static_cast<double>(rgb.total());
  const int mean = static_cast<int>(mean_value + 0.5);
  for_each_pixel(rgb, [&](uint8_t* p) {
    for (int c = 0; c < 3; ++c)
      p[c] = pil_blend(mean, p[c], factor);
  });
}

void adjust_saturation(cv::Mat& rgb, float factor) {  // blend with the pixel's own luma
  for_each_pixel(rgb, [&](uint8_t* p) {
    const int l = pil_luma(p);
    for (int c = 0; c < 3; ++c)
      p[c] = pil_blend(l, p[c], factor);
  });
}

void adjust_hue(cv::Mat& rgb, double factor) {
  // numpy's uint8(factor * 255): truncated towards zero, then wrapped.
  const int shift = ((static_cast<int>(factor * 255) % 256) + 256) % 256;
  for_each_pixel(rgb, [&](uint8_t* p) {
    uint8_t hsv[3];
    pil_rgb_to_hsv(p, hsv);
    hsv[0] = static_cast<uint8_t>((hsv[0] + shift) & 0xFF);
    pil_hsv_to_rgb(hsv, p);
  });
}

}  // namespace

void apply_jitter(cv::Mat& rgb, const JitterFactors& f) {
  CV_Assert(rgb.type() == CV_8UC3);
  for (int op : f.order) {
    // torchvision skips only components that were not asked for; a drawn
    // factor of exactly 1 is still applied (it is the identity anyway).
    if (op == 0 && f.brightness != 1.0) adjust_brightness(rgb, static_cast<float>(f.brightness));
    if (op == 1 && f.contrast != 1.0) adjust_contrast(rgb, static_cast<float>(f.contrast));
    if (op == 2 && f.saturation != 1.0) adjust_saturation(rgb, static_cast<float>(f.saturation));
    if (op == 3 && f.hue != 0.0) adjust_hue(rgb, f.hue);
  }
}

CropBox random_erasing_box(int size, const RandomErasingParams& p, Rng& rng) {
  const double area = static_cast<double>(size) * size;
  const double log_lo = std::log(p.ratio_min), log_hi = std::log(p.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase_area = area * rng.uniform(p.scale_min, p.scale_max);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));  // h / w
    const int h = round_half_even(std::sqrt(erase_area * aspect));
    const int w = round_half_even(std::sqrt(erase_area / aspect));
    if (!(h < size && w < size)) continue;
    const int y = static_cast<int>(rng.randint(0, size - h));
    const int x = static_cast<int>(rng.randint(0, size - w));
    return {x, y, w, h};
  }
  return {};
}

void erase_normalized(float* image, int size, const CropBox& box, bool channels_last) {
  for (int y = box.y; y < box.y + box.height; ++y) {
    if (channels_last) {
      std::fill_n(image + (static_cast<size_t>(y) * size + box.x) * 3, 3 * box.width, 0.0f);
    } else {
      for (int c = 0; c < 3; ++c)
        std::fill_n(image + (static_cast<size_t>(c) * size + y) * size + box.x, box.width, 0.0f);
    }
  }
}

torch::Tensor apply_erasing(torch::Tensor images, const torch::Tensor& boxes) {
  if (!boxes.defined()) return images;
  const auto b = boxes.to(torch::kCPU).contiguous();
  const int32_t* p = b.data_ptr<int32_t>();
  using torch::indexing::Slice;
  for (int64_t i = 0; i < b.size(0); ++i, p += 4) {
    if (p[2] <= 0) continue;
    images.index({i, Slice(), Slice(p[1], p[1] + p[3]), Slice(p[0], p[0] + p[2])}).zero_();
  }
  return images;
}

TrainGeometry sample_train_geometry(cv::Size image, const TrainTransformParams& p, Rng& rng) {
  TrainGeometry g;
  g.box = random_resized_crop_box(image, p.crop, rng);
  if (p.flip_probability > 0) g.flip = rng.coin(p.flip_probability);
  if (p.jitter.enabled()) g.jitter = sample_jitter(p.jitter, rng);
  if (p.erasing.probability > 0 && rng.coin(p.erasing.probability))
    g.erase = random_erasing_box(p.crop.size, p.erasing, rng);
  return g;
}

cv::Size resized_size(cv::Size image, int shorter) {
  const int w = image.width, h = image.height;
  if (w <= 0 || h <= 0) throw DataError(fmt::format("Resize: empty image {}x{}", w, h));
  const bool w_short = w <= h;
  const int s = w_short ? w : h, l = w_short ? h : w;
  // int(shorter * long / short) in Python: float division, then truncation.
  const int new_long = static_cast<int>(static_cast<double>(shorter) * l / s);
  return w_short ? cv::Size(shorter, new_long) : cv::Size(new_long, shorter);
}

CropBox center_crop_box(cv::Size image, int size) {
  if (image.width < size || image.height < size)
    throw DataError(
        fmt::format("CenterCrop({}): image is only {}x{}", size, image.width, image.height));
  return {round_half_even((image.width - size) / 2.0), round_half_even((image.height - size) / 2.0),
          size, size};
}

std::array<CropBox, 5> five_crop_boxes(cv::Size image, int size) {
  if (image.width < size || image.height < size)
    throw DataError(
        fmt::format("FiveCrop({}): image is only {}x{}", size, image.width, image.height));
  const int W = image.width, H = image.height;
  return {CropBox{0, 0, size, size}, CropBox{W - size, 0, size, size},
          CropBox{0, H - size, size, size}, CropBox{W - size, H - size, size, size},
          center_crop_box(image, size)};
}

namespace {
int cv_interp(Interp interp, cv::Size from, cv::Size to) {
  switch (interp) {
    case Interp::kLinear:
      return cv::INTER_LINEAR;
    case Interp::kArea:
      return cv::INTER_AREA;
    case Interp::kNearest:
      return cv::INTER_NEAREST_EXACT;
    case Interp::kAuto:
      break;
  }
  // kAuto on what is not RGB (the Pillow resampler's only input): INTER_AREA
  // for strong shrinks, which is nearest to PIL's antialiased bilinear.
  const double f = std::min(static_cast<double>(to.width) / from.width,
                            static_cast<double>(to.height) / from.height);
  return f < kAreaBelowScale ? cv::INTER_AREA : cv::INTER_LINEAR;
}
}  // namespace

cv::Mat crop_resize(const cv::Mat& src, const CropBox& box, cv::Size out, Interp interp) {
  const cv::Rect r = box.rect();
  if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 || r.x + r.width > src.cols ||
      r.y + r.height > src.rows)
    throw DataError(fmt::format("crop {}x{}+{}+{} outside a {}x{} image", r.width, r.height, r.x,
                                r.y, src.cols, src.rows));
  const cv::Mat roi = src(r);
  if (roi.size() == out) return roi;  // nothing to resample: share the pixels
  if (interp == Interp::kAuto && src.type() == CV_8UC3) return pil_resize(roi, out);
  cv::Mat dst;
  cv::resize(roi, dst, out, 0, 0, cv_interp(interp, roi.size(), out));
  return dst;
}

cv::Mat resize_shorter(const cv::Mat& src, int shorter, Interp interp) {
  return crop_resize(src, {0, 0, src.cols, src.rows}, resized_size(src.size(), shorter), interp);
}

cv::Mat hflip(const cv::Mat& src) {
  cv::Mat dst;
  cv::flip(src, dst, 1);
  return dst;
}

void normalize_into(const cv::Mat& rgb8, const NormalizeParams& p, float* dst, bool channels_last,
                    bool mirror) {
  if (rgb8.type() != CV_8UC3) throw DataError("normalize: expected an 8-bit 3-channel RGB image");
  // One table per channel: the same float operations as ToTensor().div(255)
  // followed by Normalize's sub_(mean).div_(std), so results are bitwise equal.
  float lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut[c][v] = (static_cast<float>(v) / 255.0f - p.mean[c]) / p.std[c];
  const int H = rgb8.rows, W = rgb8.cols;
  const size_t plane = static_cast<size_t>(H) * W;
  for (int y = 0; y < H; ++y) {
    const uint8_t* row = rgb8.ptr<uint8_t>(y);
    if (channels_last) {
      float* out = dst + static_cast<size_t>(y) * W * 3;
      for (int x = 0; x < W; ++x) {
        const uint8_t* px = row + 3 * (mirror ? W - 1 - x : x);
        out[3 * x] = lut[0][px[0]];
        out[3 * x + 1] = lut[1][px[1]];
        out[3 * x + 2] = lut[2][px[2]];
      }
    } else {
      float* r = dst + static_cast<size_t>(y) * W;
      float* g = r + plane;
      float* b = g + plane;
      if (mirror) {
        for (int x = 0; x < W; ++x) {
          const uint8_t* px = row + 3 * (W - 1 - x);
          r[x] = lut[0][px[0]];
          g[x] = lut[1][px[1]];
          b[x] = lut[2][px[2]];
        }
      } else {
        for (int x = 0; x < W; ++x) {
          const uint8_t* px = row + 3 * x;
          r[x] = lut[0][px[0]];
          g[x] = lut[1][px[1]];
          b[x] = lut[2][px[2]];
        }
      }
    }
  }
}

torch::Tensor to_normalized_tensor(const cv::Mat& rgb8, const NormalizeParams& p,
                                   bool channels_last) {
  const int64_t H = rgb8.rows, W = rgb8.cols;
  if (channels_last) {
    auto hwc = torch::empty({H, W, 3}, torch::kFloat32);
    normalize_into(rgb8, p, hwc.data_ptr<float>(), true);
    return hwc.permute({2, 0, 1});  // [3,H,W] view with channels-last strides
  }
  auto chw = torch::empty({3, H, W}, torch::kFloat32);
  normalize_into(rgb8, p, chw.data_ptr<float>(), false);
  return chw;
}

void write_rgb8_into(const cv::Mat& rgb8, uint8_t* dst, bool channels_last, bool mirror) {
  if (rgb8.type() != CV_8UC3) throw DataError("collate: expected an 8-bit 3-channel RGB image");
  const int H = rgb8.rows, W = rgb8.cols;
  if (channels_last) {
    cv::Mat out(H, W, CV_8UC3, dst);
    if (mirror)
      cv::flip(rgb8, out, 1);
    else
      rgb8.copyTo(out);
    return;
  }
  cv::Mat src = rgb8;
  if (mirror) cv::flip(rgb8, src, 1);
  const size_t plane = static_cast<size_t>(H) * W;
  std::vector<cv::Mat> planes{cv::Mat(H, W, CV_8UC1, dst), cv::Mat(H, W, CV_8UC1, dst + plane),
                              cv::Mat(H, W, CV_8UC1, dst + 2 * plane)};
  cv::split(src, planes);
}

torch::Tensor normalize_batch(const torch::Tensor& images_u8, const NormalizeParams& p) {
  if (images_u8.scalar_type() != torch::kUInt8 || images_u8.dim() < 3 || images_u8.size(-3) != 3) {
    throw DataError("normalize_batch: expected a uint8 tensor [..., 3, H, W]");
  }
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(images_u8.device());
  std::vector<int64_t> shape(static_cast<size_t>(images_u8.dim()), 1);
  shape[shape.size() - 3] = 3;
  const auto mean = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}, opts).view(shape);
  const auto std = torch::tensor({p.std[0], p.std[1], p.std[2]}, opts).view(shape);
  // ToTensor's div(255), then Normalize's sub_(mean).div_(std): true divisions, in float.
  return images_u8.to(torch::kFloat32).div_(255.0f).sub_(mean).div_(std);
}

namespace {
void check_same_size(const Views& v) {
  for (const cv::Mat* m : {&v.mask, &v.sem_classes, &v.sem_scores})
    if (!m->empty() && m->size() != v.image.size())
      throw DataError(fmt::format("image is {}x{} but its mask/semantic map is {}x{}", v.image.cols,
                                  v.image.rows, m->cols, m->rows));
}

Views apply_box(const Views& in, const CropBox& box, cv::Size out, bool flip) {
  Views o;
  auto one = [&](const cv::Mat& m, Interp interp) {
    if (m.empty()) return cv::Mat();
    cv::Mat r = crop_resize(m, box, out, interp);
    return flip ? hflip(r) : r.clone();  // clone: never alias the caller's pixels
  };
  o.image = one(in.image, Interp::kAuto);
  o.mask = one(in.mask, Interp::kNearest);
  o.sem_classes = one(in.sem_classes, Interp::kNearest);
  o.sem_scores = one(in.sem_scores, Interp::kNearest);
  return o;
}
}  // namespace

Views apply_train_geometry(const Views& in, const TrainGeometry& g, int size) {
  check_same_size(in);
  Views o = apply_box(in, g.box, {size, size}, g.flip);
  apply_jitter(o.image, g.jitter);
  return o;
}

Views train_transform(const Views& in, const TrainTransformParams& p, Rng& rng) {
  return apply_train_geometry(in, sample_train_geometry(in.image.size(), p, rng), p.crop.size);
}

Views eval_transform(const Views& in, const EvalTransformParams& p) {
  check_same_size(in);
  const cv::Size rs = resized_size(in.image.size(), p.resize);
  const CropBox box = center_crop_box(rs, p.crop);
  Views o;
  auto one = [&](const cv::Mat& m, Interp interp) {
    if (m.empty()) return cv::Mat();
    return crop_resize(m, {0, 0, m.cols, m.rows}, rs, interp)(box.rect()).clone();
  };
  o.image = one(in.image, Interp::kAuto);
  o.mask = one(in.mask, Interp::kNearest);
  o.sem_classes = one(in.sem_classes, Interp::kNearest);
  o.sem_scores = one(in.sem_scores, Interp::kNearest);
  return o;
}

std::array<cv::Mat, 10> ten_crop(const cv::Mat& rgb, const EvalTransformParams& p) {
  const cv::Mat resized = resize_shorter(rgb, p.resize);
  const cv::Mat mirrored = hflip(resized);
  const auto boxes = five_crop_boxes(resized.size(), p.crop);
  std::array<cv::Mat, 10> out;
  for (int i = 0; i < 5; ++i) {
    out[i] = resized(boxes[i].rect()).clone();
    out[i + 5] = mirrored(boxes[i].rect()).clone();
  }
  return out;
}

}  // namespace scenery::data
