#include "data/pil_resample.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "data/pil_resample_kernels.h"

// The AVX2 kernels are built on x86-64 only (data/CMakeLists.txt).
#if defined(__x86_64__)
#define SCENERY_PIL_AVX2 1
#endif

namespace scenery::data {
namespace {

bool g_simd = pil::cpu_has_avx2();

#ifndef SCENERY_PIL_AVX2
// Not an x86-64 build: the portable kernels only (cpu_has_avx2() is false,
// so these are never reached).
[[noreturn]] void no_avx2() {
  throw Error("AVX2 resampling kernels are not built for this CPU architecture");
}
#endif

// The resample of one direction for a run of outputs, in kernel form.
struct Taps {
  int taps = 1;
  std::vector<int32_t> start, weight;
  pil::TapsView view() const {
    return {start.data(), weight.data(), taps, static_cast<int>(start.size())};
  }
};

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs() + normalize_coeffs_8bpc() for outputs
// [first, first + count) of an in_size -> out_size resample over the whole
// input, in the same double operations in the same order (the fixed-point
// weights must come out identical). Zero weights at either end are dropped
// (adding 0 changes nothing), then every output is padded to the common tap
// count with its window shifted left at the right edge, so that all reads
// stay inside the source. `reverse` lists the outputs right to left (a
// horizontal flip of the result, for free).
// Fills `t`, reusing its storage (one resample per image: no allocations).
void pillow_taps(int in_size, int out_size, int first, int count, bool reverse, Taps& t) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  thread_local std::vector<int32_t> lo, n, fixed;
  thread_local std::vector<double> k;
  lo.resize(count);
  n.resize(count);
  fixed.assign(static_cast<size_t>(count) * ksize, 0);
  k.resize(ksize);
  int widest = 1;
  for (int i = 0; i < count; ++i) {
    const int xx = first + i;
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = bilinear_filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    int32_t* f = &fixed[static_cast<size_t>(i) * ksize];
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
      f[x] = k[x] < 0 ? static_cast<int32_t>(-0.5 + k[x] * (1 << pil::kPrecisionBits))
                      : static_cast<int32_t>(0.5 + k[x] * (1 << pil::kPrecisionBits));
    }
    int a = 0, b = xmax;
    while (a < b && f[a] == 0)
      ++a;
    while (b > a && f[b - 1] == 0)
      --b;
    lo[i] = xmin + a;
    n[i] = b - a;
    if (a > 0) std::copy(f + a, f + b, f);
    widest = std::max(widest, n[i]);
  }
  t.taps = std::min(widest, in_size);
  t.start.resize(count);
  t.weight.assign(static_cast<size_t>(count) * t.taps, 0);
  for (int i = 0; i < count; ++i) {
    const int slot = reverse ? count - 1 - i : i;
    const int start = std::min(lo[i], in_size - t.taps);
    t.start[slot] = start;
    std::copy_n(&fixed[static_cast<size_t>(i) * ksize], n[i],
                &t.weight[static_cast<size_t>(slot) * t.taps + (lo[i] - start)]);
  }
}

// The horizontal taps regrouped for horizontal_avx2 (see GroupsView).
struct Groups {
  std::vector<int32_t> base, weight;
  std::vector<uint8_t> valid, control;
  pil::GroupsView view() const {
    return {base.data(), valid.data(), control.data(), weight.data(),
            static_cast<int>(valid.size())};
  }
};

void avx2_groups(const Taps& h, Groups& g) {
  const int count = static_cast<int>(h.start.size()), blocks = (count + 15) / 16;
  g.base.assign(4 * static_cast<size_t>(blocks), 0);
  g.valid.assign(blocks, 1);
  g.control.assign(static_cast<size_t>(blocks) * h.taps * 64, 0x80);  // 0x80: pshufb zero
  g.weight.assign(static_cast<size_t>(blocks) * h.taps * 16, 0);
  for (int k = 0; k < 4 * blocks; ++k) {
    const int first = 4 * k, last = std::min(count, first + 4), b = k / 4;
    if (first >= last) continue;  // past the end: zero weights, written into slack
    int lo = h.start[first], hi = h.start[first];
    for (int i = first; i < last; ++i) {
      lo = std::min(lo, h.start[i]);
      hi = std::max(hi, h.start[i]);
    }
    if (hi + h.taps - 1 - lo > 15) g.valid[b] = 0;  // wider than the window: scalar
    if (!g.valid[b]) continue;
    g.base[k] = lo;
    for (int i = first; i < last; ++i)
      for (int t = 0; t < h.taps; ++t) {
        const size_t at = static_cast<size_t>(b) * h.taps + t;
        const int slot = i - 16 * b;  // 0..15 within the block
        g.control[64 * at + 4 * slot] = static_cast<uint8_t>(h.start[i] + t - lo);
        g.weight[16 * at + slot] = h.weight[static_cast<size_t>(i) * h.taps + t];
      }
  }
}

// (v / 255 - mean) / std per channel, the float operations of ToTensor +
// Normalize (the reference every path must equal).
struct Table {
  float lut[3][256];
  explicit Table(const NormalizeParams& p) {
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v)
        lut[c][v] = (static_cast<float>(v) / 255.0f - p.mean[c]) / p.std[c];
  }
};

// Whether the AVX2 normalisers (vertical_normalize_avx2 for CHW,
// normalize_interleaved_avx2 for channels-last) reproduce the table for these
// mean/std: every byte value of every channel goes through both vector paths
// once (per thread, per parameter set), so the fast path is proven, not assumed.
bool simd_normalize_is_exact(const NormalizeParams& p) {
  thread_local NormalizeParams checked;
  thread_local int verdict = -1;
  if (verdict >= 0 && checked.mean == p.mean && checked.std == p.std) return verdict == 1;
  const Table table(p);
  std::vector<uint8_t> ramp(3 * 256);
  for (int v = 0; v < 256; ++v)
    for (int c = 0; c < 3; ++c)
      ramp[3 * v + c] = static_cast<uint8_t>(v);
  std::vector<uint8_t> planes(3 * 256);
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      planes[c * 256 + v] = static_cast<uint8_t>(v);
  std::vector<float> planar(3 * 256), interleaved(3 * 256);
  const uint8_t* identity_rows[1] = {planes.data()};
  const int32_t identity_weight[1] = {1 << pil::kPrecisionBits};
  pil::vertical_normalize_avx2(identity_rows, identity_weight, 1, 256, p.mean.data(), p.std.data(),
                               planar.data(), 256);
  pil::normalize_interleaved_avx2(ramp.data(), 256, p.mean.data(), p.std.data(),
                                  interleaved.data());
  bool exact = true;
  for (int v = 0; v < 256; ++v)
    for (int c = 0; c < 3; ++c) {
      const float want = table.lut[c][v];
      exact = exact && planar[c * 256 + v] == want && interleaved[3 * v + c] == want;
    }
  checked = p;
  verdict = exact ? 1 : 0;
  return exact;
}

// Runs both passes over `roi` of the out_size resample of `src`, handing
// each finished output row, planar (R, G, B runs of roi.width bytes), to
// `row(r, bytes)` -- unless `fused(r, rows, weights, taps)` takes the tap rows
// and does the vertical pass itself (returns true).
template <class Row, class Fused>
void resample(const cv::Mat& src, cv::Size out_size, cv::Rect roi, bool mirror, Row&& row,
              Fused&& fused) {
  thread_local Taps h, v;
  pillow_taps(src.cols, out_size.width, roi.x, roi.width, mirror, h);
  pillow_taps(src.rows, out_size.height, roi.y, roi.height, false, v);
  // Only the source rows the vertical pass reads get a horizontal pass.
  const int row_first = *std::min_element(v.start.begin(), v.start.end());
  const int rows = *std::max_element(v.start.begin(), v.start.end()) + v.taps - row_first;
  for (int32_t& s : v.start)
    s -= row_first;
  const bool simd = g_simd;

  // Source rows, planar, each plane followed by zeros for the window loads.
  const size_t plane = static_cast<size_t>(src.cols) + pil::kPlanePadding;
  const size_t src_step = 3 * plane;
  thread_local std::vector<uint8_t> planar, tmp, line;
  planar.resize(static_cast<size_t>(rows) * src_step);
  for (int y = 0; y < rows; ++y)
    for (int c = 0; c < 3; ++c)
      std::fill_n(&planar[y * src_step + c * plane + src.cols], pil::kPlanePadding, 0);
  (simd ? pil::deinterleave_avx2 : pil::deinterleave_scalar)(
      src.ptr<uint8_t>(row_first), src.step, src.cols, rows, planar.data(), src_step, plane);

  const size_t len = 3 * static_cast<size_t>(roi.width);
  const size_t step = (len + 16 + 15) / 16 * 16;  // 16 bytes of slack for the AVX2 stores
  tmp.resize(static_cast<size_t>(rows) * step);
  if (simd) {
    thread_local Groups groups;
    avx2_groups(h, groups);
    pil::horizontal_avx2(planar.data(), src_step, plane, rows, h.view(), groups.view(), tmp.data(),
                         step);
  } else {
    pil::horizontal_scalar(planar.data(), src_step, plane, rows, h.view(), tmp.data(), step);
  }
  line.resize(len);
  thread_local std::vector<const uint8_t*> taps;
  taps.resize(v.taps);
  for (int r = 0; r < roi.height; ++r) {
    for (int t = 0; t < v.taps; ++t)
      taps[t] = tmp.data() + static_cast<size_t>(v.start[r] + t) * step;
    const int32_t* w = &v.weight[static_cast<size_t>(r) * v.taps];
    if (fused(r, taps.data(), w, v.taps)) continue;
    (simd ? pil::vertical_avx2 : pil::vertical_scalar)(taps.data(), w, v.taps,
                                                       static_cast<int>(len), line.data());
    row(r, line.data());
  }
}

cv::Rect checked_roi(const cv::Mat& src, cv::Size out_size, cv::Rect roi) {
  if (src.type() != CV_8UC3)
    throw DataError("resize: expected an 8-bit 3-channel RGB image, got OpenCV type " +
                    std::to_string(src.type()));
  if (src.empty() || out_size.width < 1 || out_size.height < 1)
    throw DataError(fmt::format("resize: cannot resize {}x{} to {}x{}", src.cols, src.rows,
                                out_size.width, out_size.height));
  if (roi.empty()) return {0, 0, out_size.width, out_size.height};
  if (roi.x < 0 || roi.y < 0 || roi.x + roi.width > out_size.width ||
      roi.y + roi.height > out_size.height)
    throw DataError(fmt::format("resize: output region {}x{}+{}+{} outside {}x{}", roi.width,
                                roi.height, roi.x, roi.y, out_size.width, out_size.height));
  return roi;
}

}  // namespace

namespace pil {

bool cpu_has_avx2() {
#ifdef SCENERY_PIL_AVX2
  __builtin_cpu_init();  // may run from a static initialiser, before libgcc's own
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

#ifndef SCENERY_PIL_AVX2
void deinterleave_avx2(const uint8_t*, size_t, int, int, uint8_t*, size_t, size_t) {
  no_avx2();
}
void horizontal_avx2(const uint8_t*, size_t, size_t, int, const TapsView&, const GroupsView&,
                     uint8_t*, size_t) {
  no_avx2();
}
void vertical_avx2(const uint8_t* const*, const int32_t*, int, int, uint8_t*) {
  no_avx2();
}
void interleave_avx2(const uint8_t*, int, uint8_t*) {
  no_avx2();
}
void vertical_normalize_avx2(const uint8_t* const*, const int32_t*, int, int, const float*,
                             const float*, float*, size_t) {
  no_avx2();
}
void normalize_interleaved_avx2(const uint8_t*, int, const float*, const float*, float*) {
  no_avx2();
}
#endif

namespace {
uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}
}  // namespace

void deinterleave_scalar(const uint8_t* src, size_t src_step, int width, int rows, uint8_t* dst,
                         size_t row_step, size_t plane) {
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src + static_cast<size_t>(y) * src_step;
    uint8_t* out = dst + static_cast<size_t>(y) * row_step;
    for (int i = 0; i < width; ++i)
      for (int c = 0; c < 3; ++c)
        out[c * plane + i] = in[3 * i + c];
  }
}

void interleave_scalar(const uint8_t* planar, int n, uint8_t* rgb) {
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = planar[c * n + i];
}

namespace {

// kTaps > 0 fixes the tap count at compile time, so the inner loop unrolls.
template <int kTaps>
void horizontal_plane_scalar(const uint8_t* __restrict in, const TapsView& h,
                             uint8_t* __restrict out) {
  const int taps = kTaps > 0 ? kTaps : h.taps;
  for (int i = 0; i < h.count; ++i) {
    const uint8_t* p = in + h.start[i];
    const int32_t* w = h.weight + static_cast<size_t>(i) * taps;
    int32_t s = 1 << (kPrecisionBits - 1);
    for (int t = 0; t < taps; ++t)
      s += p[t] * w[t];
    out[i] = clip8(s);
  }
}

}  // namespace

void horizontal_scalar(const uint8_t* src, size_t src_step, size_t src_plane, int rows,
                       const TapsView& h, uint8_t* dst, size_t dst_step) {
  auto pass = h.taps == 1   ? horizontal_plane_scalar<1>
              : h.taps == 2 ? horizontal_plane_scalar<2>
              : h.taps == 3 ? horizontal_plane_scalar<3>
              : h.taps == 4 ? horizontal_plane_scalar<4>
                            : horizontal_plane_scalar<0>;
  for (int y = 0; y < rows; ++y)
    for (int c = 0; c < 3; ++c)
      pass(src + static_cast<size_t>(y) * src_step + c * src_plane, h,
           dst + static_cast<size_t>(y) * dst_step + static_cast<size_t>(c) * h.count);
}

// Row by row over a chunk of accumulators: plain loops the compiler
// vectorises for whatever the target has (SSE2, NEON).
void vertical_scalar(const uint8_t* const* rows, const int32_t* weight, int taps, int len,
                     uint8_t* out) {
  constexpr int kChunk = 256;
  int32_t acc[kChunk];
  for (int x0 = 0; x0 < len; x0 += kChunk) {
    const int n = std::min(kChunk, len - x0);
    for (int i = 0; i < n; ++i)
      acc[i] = 1 << (kPrecisionBits - 1);
    for (int t = 0; t < taps; ++t) {
      const uint8_t* __restrict r = rows[t] + x0;
      const int32_t w = weight[t];
      for (int i = 0; i < n; ++i)
        acc[i] += r[i] * w;
    }
    for (int i = 0; i < n; ++i)
      out[x0 + i] = clip8(acc[i]);
  }
}

}  // namespace pil

bool set_pil_simd(bool enabled) {
  const bool before = g_simd;
  g_simd = enabled && pil::cpu_has_avx2();
  return before;
}

cv::Mat pil_resize(const cv::Mat& rgb8, cv::Size out_size, cv::Rect roi) {
  roi = checked_roi(rgb8, out_size, roi);
  if (out_size == rgb8.size()) return rgb8(roi);  // Pillow copies; the weights are identity
  cv::Mat dst(roi.size(), CV_8UC3);
  const auto interleave = g_simd ? pil::interleave_avx2 : pil::interleave_scalar;
  resample(
      rgb8, out_size, roi, false,
      [&](int r, const uint8_t* planar) { interleave(planar, roi.width, dst.ptr<uint8_t>(r)); },
      [](int, const uint8_t* const*, const int32_t*, int) { return false; });
  return dst;
}

void pil_resize_normalize_into(const cv::Mat& rgb8, cv::Size out_size, cv::Rect roi,
                               const NormalizeParams& p, float* dst, bool channels_last,
                               bool mirror) {
  roi = checked_roi(rgb8, out_size, roi);
  if (out_size == rgb8.size()) return normalize_into(rgb8(roi), p, dst, channels_last, mirror);
  const int W = roi.width;
  const size_t plane = static_cast<size_t>(roi.height) * W;
  const bool fast = g_simd && simd_normalize_is_exact(p);
  std::unique_ptr<Table> table;
  if (!fast) table = std::make_unique<Table>(p);
  thread_local std::vector<uint8_t> rgb;
  rgb.resize(3 * static_cast<size_t>(W));
  // CHW on the fast path: vertical pass and normalisation in one, no bytes in between.
  auto fused = [&](int r, const uint8_t* const* rows, const int32_t* w, int taps) {
    if (!fast || channels_last) return false;
    pil::vertical_normalize_avx2(rows, w, taps, W, p.mean.data(), p.std.data(),
                                 dst + static_cast<size_t>(r) * W, plane);
    return true;
  };
  auto row = [&](int r, const uint8_t* planar) {
    const size_t at = static_cast<size_t>(r) * W;
    if (fast) {
      pil::interleave_avx2(planar, W, rgb.data());
      pil::normalize_interleaved_avx2(rgb.data(), W, p.mean.data(), p.std.data(), dst + 3 * at);
    } else {
      for (int c = 0; c < 3; ++c)
        for (int x = 0; x < W; ++x) {
          const float v = table->lut[c][planar[c * W + x]];
          if (channels_last)
            dst[3 * (at + x) + c] = v;
          else
            dst[c * plane + at + x] = v;
        }
    }
  };
  resample(rgb8, out_size, roi, mirror, row, fused);
}

}  // namespace scenery::data
