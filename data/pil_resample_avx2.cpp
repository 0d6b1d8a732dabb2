// AVX2 + FMA kernels of Pillow-exact resampling. Compiled with -mavx2 -mfma
// -ffp-contract=off (see data/CMakeLists.txt) and called only when
// cpu_has_avx2(). Integer passes are exact by construction (sums of integer
// products do not depend on order); the normaliser is checked against the
// division for every input byte before it is used (pil_resample.cpp).
#include <immintrin.h>

#include <cstring>

#include "data/pil_resample_kernels.h"

namespace scenery::data::pil {
namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Outputs [4g, 4g + 4) of one channel plane the scalar way (groups whose
// taps do not fit a 16-byte window, and a last odd group).
inline void horizontal_group(const uint8_t* plane, const TapsView& h, int g, uint8_t* out) {
  for (int i = 4 * g; i < 4 * g + 4 && i < h.count; ++i) {
    const uint8_t* p = plane + h.start[i];
    const int32_t* w = h.weight + static_cast<size_t>(i) * h.taps;
    int32_t s = kHalf;
    for (int t = 0; t < h.taps; ++t)
      s += p[t] * w[t];
    out[i] = clip8(s);
  }
}

inline __m128i load16(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
inline __m256i load2x16(const void* lo, const void* hi) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(load16(lo)), load16(hi), 1);
}

// (v / 255 - m) / s, exactly as the scalar division would round, provided
// the Newton step lands on the correctly rounded quotient (checked by the caller).
inline __m256 normalize8(__m256i v, __m256 mean, __m256 std, __m256 inv_std) {
  const __m256 k255 = _mm256_set1_ps(255.0f);
  const __m256 inv255 = _mm256_set1_ps(1.0f / 255.0f);
  const __m256 x = _mm256_cvtepi32_ps(v);
  __m256 q = _mm256_mul_ps(x, inv255);
  q = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, k255, x), inv255, q);
  const __m256 y = _mm256_sub_ps(q, mean);
  __m256 z = _mm256_mul_ps(y, inv_std);
  return _mm256_fmadd_ps(_mm256_fnmadd_ps(z, std, y), inv_std, z);
}

inline float normalize1(uint8_t v, float mean, float std) {
  return (static_cast<float>(v) / 255.0f - mean) / std;
}

}  // namespace

void deinterleave_avx2(const uint8_t* src, size_t src_step, int width, int rows, uint8_t* dst,
                       size_t row_step, size_t plane) {
  // masks[c][k]: channel c of 16 pixels from chunk k of their 48 bytes (-1 = zero).
  alignas(16) int8_t masks[3][3][16];
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 16; ++j) {
        const int s = 3 * j + c;
        masks[c][k][j] = static_cast<int8_t>(s / 16 == k ? s % 16 : -1);
      }
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src + static_cast<size_t>(y) * src_step;
    uint8_t* out = dst + static_cast<size_t>(y) * row_step;
    int i = 0;
    for (; i + 16 <= width; i += 16) {
      const uint8_t* p = in + 3 * static_cast<size_t>(i);
      const __m128i a = load16(p), b = load16(p + 16), d = load16(p + 32);
      for (int c = 0; c < 3; ++c) {
        const __m128i ch = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, load16(masks[c][0])),
                                                     _mm_shuffle_epi8(b, load16(masks[c][1]))),
                                        _mm_shuffle_epi8(d, load16(masks[c][2])));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c * plane + i), ch);
      }
    }
    for (; i < width; ++i)
      for (int c = 0; c < 3; ++c)
        out[c * plane + i] = in[3 * i + c];
  }
}

namespace {

// One channel plane of one row; kTaps > 0 fixes the tap count at compile time
// (the loops unroll), 0 takes it from h.
template <int kTaps>
void horizontal_plane(const uint8_t* __restrict plane, const TapsView& h, const GroupsView& g,
                      uint8_t* __restrict out) {
  const int taps = kTaps > 0 ? kTaps : h.taps;
  const __m256i half = _mm256_set1_epi32(kHalf);
  // packs/packus leave outputs 0-3, 8-11 | 4-7, 12-15 as dwords 0, 1 | 4, 5.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const uint8_t* __restrict valid = g.valid;
  const int32_t* __restrict bases = g.base;
  const __m256i* __restrict control = reinterpret_cast<const __m256i*>(g.control);
  const __m256i* __restrict weight = reinterpret_cast<const __m256i*>(g.weight);
  for (int b = 0; b < g.blocks; ++b) {
    if (!valid[b]) {
      for (int k = 4 * b; k < 4 * b + 4; ++k)
        horizontal_group(plane, h, k, out);
      continue;
    }
    const int32_t* base = bases + 4 * b;
    const __m256i w01 = load2x16(plane + base[0], plane + base[1]);
    const __m256i w23 = load2x16(plane + base[2], plane + base[3]);
    __m256i a0 = half, a1 = half;
    for (int t = 0; t < taps; ++t) {
      const size_t at = 2 * (static_cast<size_t>(b) * taps + t);
      a0 = _mm256_add_epi32(
          a0, _mm256_mullo_epi32(_mm256_shuffle_epi8(w01, _mm256_loadu_si256(control + at)),
                                 _mm256_loadu_si256(weight + at)));
      a1 = _mm256_add_epi32(
          a1, _mm256_mullo_epi32(_mm256_shuffle_epi8(w23, _mm256_loadu_si256(control + at + 1)),
                                 _mm256_loadu_si256(weight + at + 1)));
    }
    a0 = _mm256_srai_epi32(a0, kPrecisionBits);
    a1 = _mm256_srai_epi32(a1, kPrecisionBits);
    const __m256i p16 = _mm256_packs_epi32(a0, a1);  // saturating: same as clip8
    const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p16, p16), order);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * static_cast<size_t>(b)),
                     _mm256_castsi256_si128(p8));
  }
}

}  // namespace

void horizontal_avx2(const uint8_t* src, size_t src_step, size_t src_plane, int rows,
                     const TapsView& h, const GroupsView& g, uint8_t* dst, size_t dst_step) {
  auto pass = h.taps == 1   ? horizontal_plane<1>
              : h.taps == 2 ? horizontal_plane<2>
              : h.taps == 3 ? horizontal_plane<3>
              : h.taps == 4 ? horizontal_plane<4>
                            : horizontal_plane<0>;
  for (int y = 0; y < rows; ++y)
    for (int c = 0; c < 3; ++c)
      // Channels in order: a block's 16-byte store may spill past h.count
      // into the next plane, which is written afterwards (or into the slack).
      pass(src + static_cast<size_t>(y) * src_step + c * src_plane, h, g,
           dst + static_cast<size_t>(y) * dst_step + static_cast<size_t>(c) * h.count);
}

void vertical_avx2(const uint8_t* const* rows, const int32_t* weight, int taps, int len,
                   uint8_t* out) {
  int x = 0;
  for (; x + 16 <= len; x += 16) {
    __m256i a0 = _mm256_set1_epi32(kHalf), a1 = a0;
    for (int t = 0; t < taps; ++t) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[t] + x));
      const __m256i w = _mm256_set1_epi32(weight[t]);
      a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), w));
      a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), w));
    }
    a0 = _mm256_srai_epi32(a0, kPrecisionBits);
    a1 = _mm256_srai_epi32(a1, kPrecisionBits);
    // packs works within 128-bit lanes; the permutes restore element order.
    const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
    const __m256i p8 = _mm256_permute4x64_epi64(_mm256_packus_epi16(p16, p16), 0xD8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x), _mm256_castsi256_si128(p8));
  }
  for (; x < len; ++x) {
    int32_t s = kHalf;
    for (int t = 0; t < taps; ++t)
      s += rows[t][x] * weight[t];
    out[x] = clip8(s);
  }
}

namespace {

template <int kTaps>
void vertical_normalize_plane(const uint8_t* const* rows, const int32_t* weight, int taps, int n,
                              size_t off, float mean, float std, float* __restrict out) {
  if (kTaps > 0) taps = kTaps;
  const __m256i half = _mm256_set1_epi32(kHalf), zero = _mm256_setzero_si256(),
                top = _mm256_set1_epi32(255);
  const __m256 m = _mm256_set1_ps(mean), sd = _mm256_set1_ps(std), inv = _mm256_set1_ps(1.0f / std);
  constexpr int kMax = kTaps > 0 ? kTaps : 1;
  __m256i w[kMax];
  const uint8_t* r[kMax];
  for (int t = 0; t < kMax && kTaps > 0; ++t) {
    w[t] = _mm256_set1_epi32(weight[t]);
    r[t] = rows[t] + off;
  }
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    __m256i acc = half;
    for (int t = 0; t < taps; ++t) {
      const uint8_t* row = kTaps > 0 ? r[t] : rows[t] + off;
      const __m256i wt = kTaps > 0 ? w[t] : _mm256_set1_epi32(weight[t]);
      const __m128i px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + x));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(px), wt));
    }
    acc = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(acc, kPrecisionBits), zero), top);
    _mm256_storeu_ps(out + x, normalize8(acc, m, sd, inv));
  }
  for (; x < n; ++x) {
    int32_t s = kHalf;
    for (int t = 0; t < taps; ++t)
      s += rows[t][off + x] * weight[t];
    out[x] = normalize1(clip8(s), mean, std);
  }
}

}  // namespace

void vertical_normalize_avx2(const uint8_t* const* rows, const int32_t* weight, int taps, int n,
                             const float* mean, const float* std, float* dst, size_t plane) {
  auto pass = taps == 1   ? vertical_normalize_plane<1>
              : taps == 2 ? vertical_normalize_plane<2>
              : taps == 3 ? vertical_normalize_plane<3>
              : taps == 4 ? vertical_normalize_plane<4>
                          : vertical_normalize_plane<0>;
  for (int c = 0; c < 3; ++c)
    pass(rows, weight, taps, n, static_cast<size_t>(c) * n, mean[c], std[c], dst + c * plane);
}

void interleave_avx2(const uint8_t* planar, int n, uint8_t* rgb) {
  // masks[k][c]: where chunk k of 48 interleaved bytes takes channel c's pixels.
  alignas(16) int8_t masks[3][3][16];
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 3; ++c)
      for (int o = 0; o < 16; ++o) {
        const int s = 16 * k + o;
        masks[k][c][o] = static_cast<int8_t>(s % 3 == c ? s / 3 : -1);
      }
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i ch[3] = {load16(planar + i), load16(planar + n + i), load16(planar + 2 * n + i)};
    for (int k = 0; k < 3; ++k) {
      const __m128i out = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(ch[0], load16(masks[k][0])),
                                                    _mm_shuffle_epi8(ch[1], load16(masks[k][1]))),
                                       _mm_shuffle_epi8(ch[2], load16(masks[k][2])));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(rgb + 3 * static_cast<size_t>(i) + 16 * k), out);
    }
  }
  for (; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = planar[c * n + i];
}

void normalize_interleaved_avx2(const uint8_t* rgb, int n, const float* mean, const float* std,
                                float* dst) {
  // 24 values (8 pixels) per step; lane l of block k is channel (8k + l) % 3.
  __m256 m[3], sd[3], inv[3];
  for (int k = 0; k < 3; ++k) {
    alignas(32) float mv[8], sv[8], iv[8];
    for (int l = 0; l < 8; ++l) {
      const int c = (8 * k + l) % 3;
      mv[l] = mean[c];
      sv[l] = std[c];
      iv[l] = 1.0f / std[c];
    }
    m[k] = _mm256_load_ps(mv);
    sd[k] = _mm256_load_ps(sv);
    inv[k] = _mm256_load_ps(iv);
  }
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint8_t* p = rgb + 3 * static_cast<size_t>(i);
    float* out = dst + 3 * static_cast<size_t>(i);
    for (int k = 0; k < 3; ++k) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8 * k));
      _mm256_storeu_ps(out + 8 * k, normalize8(_mm256_cvtepu8_epi32(b), m[k], sd[k], inv[k]));
    }
  }
  for (; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      dst[3 * i + c] = normalize1(rgb[3 * i + c], mean[c], std[c]);
}

}  // namespace scenery::data::pil
