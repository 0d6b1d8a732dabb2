// Pillow's bilinear resampling, bit for bit: Image.resize(size,
// Image.BILINEAR) on an RGB image, which is what torchvision's Resize and
// RandomResizedCrop run on PIL images. Separable, antialiased when shrinking
// (the triangle filter widens by the shrink factor), fixed-point weights with
// 22 fractional bits, horizontal pass first and rounded to 8 bits between the
// passes (Pillow 9, libImaging/Resample.c). Integer arithmetic makes the
// result exact whatever the evaluation order, so the AVX2 path and the
// portable one agree with Pillow and with each other.
//
// Why our own resampler rather than OpenCV's: OpenCV's INTER_LINEAR does not
// antialias and rounds differently (up to 5 grey levels off torchvision). With
// the AVX2 kernels this is also the faster one: 95 vs 132 us per 224-px crop,
// normalisation included (benchmarks/bench_data_pipeline.cpp). The portable
// kernels are exact but take ~0.45 ms.
#pragma once

#include <opencv2/core.hpp>

#include "data/transforms.h"

namespace scenery::data {

// Pillow's Image.resize(out_size, BILINEAR) of an 8-bit RGB image, of which
// only the output rectangle `roi` is computed and returned (every output
// pixel depends only on its own coordinates, so a sub-rectangle is exact; an
// empty roi means the whole output). When out_size is the image's own size,
// returns a view of its pixels. Throws DataError on a non-RGB image or a roi
// outside out_size.
cv::Mat pil_resize(const cv::Mat& rgb8, cv::Size out_size, cv::Rect roi = {});

// normalize_into(pil_resize(rgb8, out_size, roi), p, dst, channels_last,
// mirror), bitwise, without the intermediate image: the resampler's rows are
// normalised while still in cache.
void pil_resize_normalize_into(const cv::Mat& rgb8, cv::Size out_size, cv::Rect roi,
                               const NormalizeParams& p, float* dst, bool channels_last = false,
                               bool mirror = false);

// Whether the AVX2 kernels may run (true on CPUs with AVX2 + FMA). Tests and
// benchmarks switch them off to compare with the portable path; returns the
// previous setting. Not thread-safe: set it before loading.
bool set_pil_simd(bool enabled);

}  // namespace scenery::data
