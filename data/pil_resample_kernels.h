// Inner loops of Pillow-exact bilinear resampling (data/pil_resample.h), on
// raw pointers only. Why raw pointers: the AVX2 versions live in a translation
// unit compiled with -mavx2, and any inline or template function shared with
// the rest of the library (a std::vector member, say) could be emitted there
// with AVX2 instructions and picked by the linker for every caller, crashing
// CPUs without AVX2. Plain functions with C types keep that TU sealed.
//
// Rows are planar between the passes: a row of n pixels is R[n] G[n] B[n]
// (plus padding), so every pass runs over contiguous bytes of one channel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scenery::data::pil {

// Pillow's fixed-point precision for 8-bit images (Resample.c: 32 - 8 - 2).
constexpr int kPrecisionBits = 22;
// Bytes of zeros after each source plane row, so a 16-byte window load that
// starts at any pixel stays inside the buffer.
constexpr int kPlanePadding = 16;

// One direction of a resample: output i reads `taps` consecutive source
// pixels from start[i] with integer weights weight[i * taps + t] (zero-padded,
// so every output has the same count; start[i] + taps <= source size).
struct TapsView {
  const int32_t* start = nullptr;
  const int32_t* weight = nullptr;
  int taps = 0;
  int count = 0;
};

// The horizontal taps in the AVX2 pass's form. Outputs go in blocks of 16,
// four groups of four; group k reads the 16 source bytes from base[k]. Block
// b is computed the scalar way where valid[b] is 0 (some group's taps span
// more than its window). For tap t, the block's pshufb controls
// control[(b * taps + t) * 64 ...] pick each output's pixel as a zero-extended
// int32, to be multiplied by weight[(b * taps + t) * 16 ...].
struct GroupsView {
  const int32_t* base = nullptr;
  const uint8_t* valid = nullptr;
  const uint8_t* control = nullptr;
  const int32_t* weight = nullptr;
  int blocks = 0;
};

// Interleaved RGB rows -> planar rows (row_step apart; channel c at c * plane).
void deinterleave_scalar(const uint8_t* src, size_t src_step, int width, int rows, uint8_t* dst,
                         size_t row_step, size_t plane);
void deinterleave_avx2(const uint8_t* src, size_t src_step, int width, int rows, uint8_t* dst,
                       size_t row_step, size_t plane);

// Horizontal pass over `rows` planar source rows (src_step apart, channel
// planes src_plane apart) into planar rows of h.count pixels (dst_step apart,
// planes h.count apart; dst rows need 16 bytes of slack after 3 * h.count).
void horizontal_scalar(const uint8_t* src, size_t src_step, size_t src_plane, int rows,
                       const TapsView& h, uint8_t* dst, size_t dst_step);
void horizontal_avx2(const uint8_t* src, size_t src_step, size_t src_plane, int rows,
                     const TapsView& h, const GroupsView& g, uint8_t* dst, size_t dst_step);

// Vertical pass for one output row: out[x] = clip8(sum_t rows[t][x] * weight[t]).
void vertical_scalar(const uint8_t* const* rows, const int32_t* weight, int taps, int len,
                     uint8_t* out);
void vertical_avx2(const uint8_t* const* rows, const int32_t* weight, int taps, int len,
                   uint8_t* out);

// Planar row (R[n] G[n] B[n]) -> interleaved RGB.
void interleave_scalar(const uint8_t* planar, int n, uint8_t* rgb);
void interleave_avx2(const uint8_t* planar, int n, uint8_t* rgb);

// The vertical pass and normalisation at once, for CHW output: planar rows in,
// float planes out (dst + c * plane). Exact under the same condition as below.
void vertical_normalize_avx2(const uint8_t* const* rows, const int32_t* weight, int taps, int n,
                             const float* mean, const float* std, float* dst, size_t plane);

// (v / 255 - mean[c]) / std[c] from an interleaved row into interleaved floats.
// Computed with Newton-corrected reciprocals: bitwise equal to the division
// for a given mean/std only where the caller has checked all 256 inputs.
void normalize_interleaved_avx2(const uint8_t* rgb, int n, const float* mean, const float* std,
                                float* dst);

// Whether this CPU runs the *_avx2 kernels (AVX2 and FMA).
bool cpu_has_avx2();

}  // namespace scenery::data::pil
