// Image transforms as small pure functions over cv::Mat (8-bit RGB images,
// 8-bit label masks, 8-bit 3-channel semantic maps). Randomness comes only from
// the Rng passed in. Geometry follows torchvision 0.14 exactly (same integer
// crop boxes, same rounding), and so do RGB pixel values: images are
// resampled by Pillow's own bilinear filter, bit for bit (data/pil_resample.h).
//
// Why the geometry is split from the pixels: the loader samples a
// TrainGeometry once per sample and applies it to the image, the mask and the
// semantic maps alike, so they can never disagree.
#pragma once

#include <torch/types.h>
#include <opencv2/core.hpp>

#include <array>

#include "data/transforms_rng.h"

namespace scenery::data {

// A crop rectangle in source pixel coordinates (torchvision's i, j, h, w).
struct CropBox {
  int x = 0, y = 0, width = 0, height = 0;
  cv::Rect rect() const { return {x, y, width, height}; }
  bool operator==(const CropBox& o) const {
    return x == o.x && y == o.y && width == o.width && height == o.height;
  }
};

// Python's round(): halves go to the even neighbour (torchvision relies on it).
int round_half_even(double v);

// torchvision.transforms.RandomResizedCrop: output `size`×`size`, area fraction
// in [scale_min, scale_max], aspect ratio (w/h) log-uniform in [ratio_min, ratio_max].
struct RandomResizedCropParams {
  int size = 224;
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
};
// torchvision's get_params: 10 attempts, then the central crop clamped to the
// ratio range. Throws DataError for an empty image.
CropBox random_resized_crop_box(cv::Size image, const RandomResizedCropParams& p, Rng& rng);

// torchvision.transforms.ColorJitter(brightness, contrast, saturation, hue) on
// PIL images: factors drawn uniformly in [max(0, 1 - x), 1 + x] (hue in
// [-hue, hue], hue <= 0.5), applied in a random order (torchvision's
// randperm(4)); 0 disables a component.
struct ColorJitterParams {
  double brightness = 0, contrast = 0, saturation = 0, hue = 0;
  bool enabled() const { return brightness > 0 || contrast > 0 || saturation > 0 || hue > 0; }
};
struct JitterFactors {
  double brightness = 1, contrast = 1, saturation = 1, hue = 0;
  std::array<int, 4> order{0, 1, 2, 3};  // 0 brightness, 1 contrast, 2 saturation, 3 hue
  bool identity() const { return brightness == 1 && contrast == 1 && saturation == 1 && hue == 0; }
};
JitterFactors sample_jitter(const ColorJitterParams& p, Rng& rng);
// In place on an 8-bit RGB image, bit for bit what torchvision 0.14's
// adjust_brightness / adjust_contrast / adjust_saturation / adjust_hue do to a
// PIL image (Pillow's ImageEnhance blends in float with truncation, its "L"
// conversion, its 8-bit HSV round trip; tests/data/test_transforms.cpp).
void apply_jitter(cv::Mat& rgb, const JitterFactors& f);

// torchvision.transforms.RandomErasing on the normalised crop: with
// `probability`, a rectangle of area fraction in [scale_min, scale_max] and
// aspect ratio (h/w) log-uniform in [ratio_min, ratio_max] is set to 0 (the
// mean colour after normalisation), 10 attempts, else nothing is erased.
struct RandomErasingParams {
  double probability = 0;  // 0 disables
  double scale_min = 0.02, scale_max = 0.33;
  double ratio_min = 0.3, ratio_max = 3.3;
};
// The rectangle to erase in a `size` x `size` crop (width 0: none).
CropBox random_erasing_box(int size, const RandomErasingParams& p, Rng& rng);
// Zeroes `box` of one normalised [3,S,S] (or HWC) image in place.
void erase_normalized(float* image, int size, const CropBox& box, bool channels_last);
// The same on a normalised batch [B,3,S,S] (any device, any memory format)
// from the loader's int32 [B,4] boxes (Batch::erase); returns `images`.
torch::Tensor apply_erasing(torch::Tensor images, const torch::Tensor& boxes);

// The whole training augmentation: RandomResizedCrop, then horizontal flip
// with probability flip_probability, then optional colour jitter, then
// optional random erasing (torchvision's reference recipe order).
struct TrainTransformParams {
  RandomResizedCropParams crop;
  double flip_probability = 0.5;  // 0 disables flipping
  ColorJitterParams jitter;
  RandomErasingParams erasing;  // applied by the loader after normalisation
};
// What one sample's random draws decided (drawn in that order from the Rng).
struct TrainGeometry {
  CropBox box;
  bool flip = false;
  JitterFactors jitter;
  CropBox erase;  // in output pixels; width 0 = nothing erased
};
TrainGeometry sample_train_geometry(cv::Size image, const TrainTransformParams& p, Rng& rng);

// Eval: Resize(shorter side `resize`) + CenterCrop(`crop`) (torchvision's
// val transform, 256/224 by default); also the ten-crop geometry.
struct EvalTransformParams {
  int resize = 256;
  int crop = 224;
};
// torchvision Resize(int): shorter side = `shorter`, longer = int(shorter * long / short)
// (truncated, as torchvision does).
cv::Size resized_size(cv::Size image, int shorter);
// torchvision center_crop offsets: round((H - h) / 2), round((W - w) / 2), ties to even.
// Throws DataError if the image is smaller than the crop (torchvision would pad).
CropBox center_crop_box(cv::Size image, int size);
// torchvision five_crop order: top-left, top-right, bottom-left, bottom-right, centre.
std::array<CropBox, 5> five_crop_boxes(cv::Size image, int size);

// How pixels are resampled. kAuto = for 8-bit RGB, Pillow's BILINEAR bit for
// bit (pil_resize: what torchvision's transforms do to PIL images); for other
// images INTER_AREA when shrinking by more than kAreaBelowScale along either
// axis, else INTER_LINEAR. kLinear / kArea force those OpenCV filters.
// kNearest = INTER_NEAREST_EXACT, PIL's pixel-centre nearest neighbour, used
// for labels so they stay aligned with the bilinear image.
enum class Interp { kAuto, kLinear, kArea, kNearest };
constexpr double kAreaBelowScale = 0.75;

// Resizes only the `box` region of `src` to `out` (the crop is a view, never
// copied). With kAuto on RGB, equal to torchvision 0.14 + PIL's
// resized_crop bit for bit (tests/data/test_transforms.cpp, TorchvisionParity.*).
cv::Mat crop_resize(const cv::Mat& src, const CropBox& box, cv::Size out,
                    Interp interp = Interp::kAuto);
cv::Mat resize_shorter(const cv::Mat& src, int shorter, Interp interp = Interp::kAuto);
cv::Mat hflip(const cv::Mat& src);

// ImageNet mean/std by default.
struct NormalizeParams {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};
// Writes (v / 255 - mean) / std for an 8-bit RGB image straight into `dst`:
// CHW ([3,H,W]) or, with channels_last, HWC. `mirror` reads the image
// horizontally flipped (the flip costs nothing here). Values are computed in
// float exactly as torchvision's ToTensor + Normalize do (bitwise equal).
void normalize_into(const cv::Mat& rgb8, const NormalizeParams& p, float* dst,
                    bool channels_last = false, bool mirror = false);
// The 8-bit pixels themselves into `dst` (CHW, or HWC with channels_last),
// mirrored if asked: what the loader collates when normalisation is left to
// the consumer (LoaderOptions::uint8_images).
void write_rgb8_into(const cv::Mat& rgb8, uint8_t* dst, bool channels_last = false,
                     bool mirror = false);
// Normalises a uint8 image batch [..., 3, H, W] as normalize_into does, with
// the same float operations in the same order (bitwise equal), on the
// tensor's device and keeping its memory format. Why: uint8 batches are a
// quarter of the bytes to collate and copy to a GPU, and ATen's vectorised
// kernels normalise faster than the loader's per-pixel table.
torch::Tensor normalize_batch(const torch::Tensor& images_u8, const NormalizeParams& p);
// The same into a fresh float tensor [3,H,W] (strides channels-last if asked).
torch::Tensor to_normalized_tensor(const cv::Mat& rgb8, const NormalizeParams& p = {},
                                   bool channels_last = false);

// An image and what must follow its geometry. Empty Mats are absent.
struct Views {
  cv::Mat image;        // 8-bit RGB
  cv::Mat mask;         // 8-bit labels (ADE20K annotation)
  cv::Mat sem_classes;  // 8-bit 3-channel top-3 classes
  cv::Mat sem_scores;   // 8-bit 3-channel top-3 scores
};
// Applies a sampled geometry to every present view: the image Pillow-bilinear,
// the others nearest neighbour, same box, same flip. Throws DataError if the
// views' sizes differ.
Views apply_train_geometry(const Views& in, const TrainGeometry& g, int size);
Views train_transform(const Views& in, const TrainTransformParams& p, Rng& rng);
Views eval_transform(const Views& in, const EvalTransformParams& p);
// torchvision TenCrop(crop) after Resize(resize): the five crops of the image,
// then the five crops of its mirror image, in that order.
std::array<cv::Mat, 10> ten_crop(const cv::Mat& rgb, const EvalTransformParams& p);

}  // namespace scenery::data
