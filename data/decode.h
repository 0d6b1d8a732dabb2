// Image decoding for the loader and for `scenery-data check`.
//
// Everything is read with IMREAD_UNCHANGED and converted here, explicitly, so
// no format is silently mangled by OpenCV's implicit conversions: grayscale is
// replicated, CMYK JPEGs come out as RGB (libjpeg converts them), palette PNGs
// are expanded, alpha is dropped (not blended), 16-bit samples are scaled to
// 8 bits with rounding (v * 255 / 65535).
//
// Every entry point reads the size the file's header declares before anything
// is allocated for its pixels and refuses images of more than `max_pixels`
// (data.max_image_pixels; 0 = no limit) with a DataError naming the file, the
// declared size and the option, so a decompression bomb costs a few kB, not
// the machine. With a limit, only formats whose header is read here are
// decoded (JPEG, PNG, BMP, WebP, TIFF, PNM: data/image_header.h), and files
// larger than any image within the limit could be are not read at all.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/image_header.h"

namespace scenery::data {

// Decodes a JPEG/PNG (anything OpenCV's imgcodecs reads) to 8-bit 3-channel
// RGB (R first, as torchvision sees it). Throws DataError naming the file and
// the reason: missing, empty, not an image, truncated or corrupt.
cv::Mat decode_rgb(const std::filesystem::path& file, int64_t max_pixels = kDefaultMaxImagePixels);

// The same from bytes already in memory; `name` is only used in errors.
cv::Mat decode_rgb_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                         int64_t max_pixels = kDefaultMaxImagePixels);

// Throws the DataError above when the image `bytes` encode declares more than
// `max_pixels` pixels (or, with a limit, is in a format whose size cannot be
// read); the loader and `scenery-data check` call it through the decoders.
void check_declared_size(const std::vector<uint8_t>& bytes, const std::string& name,
                         int64_t max_pixels);

// Part of a decoded image: `pixels` sit at `origin` in the full image of
// size `full`.
struct PartialImage {
  cv::Mat pixels;
  cv::Point origin{0, 0};
  cv::Size full;
  // The full image's rectangle `r` (must lie within what was decoded).
  cv::Mat region(const cv::Rect& r) const { return pixels(r - origin); }
};

// Decodes what a crop needs: `choose` gets the image's size and returns the
// rectangle wanted. Ordinary colour JPEGs are decoded only around it (rows
// below it are not decoded at all, rows above only entropy-decoded), with
// pixels identical to decode_rgb's; other files are decoded whole. Same
// errors as decode_rgb.
PartialImage decode_rgb_region(const std::filesystem::path& file,
                               const std::function<cv::Rect(cv::Size)>& choose,
                               int64_t max_pixels = kDefaultMaxImagePixels);
PartialImage decode_rgb_region_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                                     const std::function<cv::Rect(cv::Size)>& choose,
                                     int64_t max_pixels = kDefaultMaxImagePixels);

// Decodes an annotation PNG as raw 8-bit single-channel labels, no conversion
// (ADE20K: 0 = other, 1..150 = classes). Throws DataError naming the file if
// it is unreadable or not 8-bit single-channel.
cv::Mat decode_label_png(const std::filesystem::path& file,
                         int64_t max_pixels = kDefaultMaxImagePixels);
cv::Mat decode_label_png_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                               int64_t max_pixels = kDefaultMaxImagePixels);

// Decodes a precomputed top-3 semantic PNG (noisy_annotations_RGB /
// noisy_scores_RGB) as raw 8-bit 3-channel values in file channel order
// (R, G, B = rank 1, 2, 3), no colour conversion. Throws DataError otherwise.
cv::Mat decode_raw3_png(const std::filesystem::path& file,
                        int64_t max_pixels = kDefaultMaxImagePixels);
cv::Mat decode_raw3_png_bytes(const std::vector<uint8_t>& bytes, const std::string& name,
                              int64_t max_pixels = kDefaultMaxImagePixels);

// A catalog sample's image / annotation mask, from its own file or its shard
// member (data/sample_bytes.h); errors as above, naming the file or member.
cv::Mat decode_sample_rgb(const Sample& sample, int64_t max_pixels = kDefaultMaxImagePixels);
cv::Mat decode_sample_mask(const Sample& sample, int64_t max_pixels = kDefaultMaxImagePixels);

}  // namespace scenery::data
