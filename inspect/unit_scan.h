// The passes over a dataset that unit dissection and unit segmentation share:
// pass 1 runs the network to the named layers and keeps, per unit, its top
// images by spatial maximum (and, for dissection, the exact 0.995 quantile of
// its activations); pass 2 counts the IoU sums against the annotations and
// draws each unit's top images. Pass 2 reads pass 1's activations from memory
// when they fit in `cache_bytes`, and runs the network again otherwise, so
// the cost stays two passes over the data and one or two forwards.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/decode.h"
#include "data/transforms.h"
#include "inspect/unit_iou.h"
#include "models/scene_model.h"

namespace scenery::inspect {

struct UnitImage {
  std::filesystem::path image;
  std::filesystem::path annotation;  // ADE20K-style label PNG (0 = unlabelled), or empty
  std::string name;                  // what reports call it
  int64_t label = -1;                // scene class, when known
};

// How a unit's region is drawn on its top images.
enum class UnitPicture {
  // Network Dissection: A = bilinear(map) > T_u, shown as (A * 0.8 + 0.2) * image.
  kThresholdRegion,
  // Zhou et al. 2015: |map| -> 3x3 mean filter -> / max -> bilinear -> > fraction.
  kSegmentation,
};

struct UnitScanOptions {
  std::vector<std::string> layers;  // state-dict names (models/layer_taps.h)
  int input_size = 224;             // images are squashed to S x S, as Broden's 224 x 224
  data::NormalizeParams normalize;
  int batch_size = 16;
  int64_t max_pixels = data::kDefaultMaxImagePixels;
  int top_images = 10;
  bool dissect = true;  // thresholds and (with annotations) IoU sums
  double quantile = 0.995;
  int64_t classes = 150;  // annotation values 1..classes
  int64_t cache_bytes = int64_t{2} << 30;
  UnitPicture picture = UnitPicture::kThresholdRegion;
  double segment_fraction = 0.2;  // kSegmentation's threshold
  int thumbnail = 96;             // side of each drawn image
  bool draw = true;               // false: no strips (only the top images are wanted)
  std::function<void(const std::string&)> progress;  // a line now and then
};

struct TopActivation {
  size_t image = 0;  // index into the scanned images
  float value = 0;   // the unit's spatial maximum on it
};

struct LayerUnits {
  std::string layer;
  int64_t units = 0, height = 0, width = 0;     // map size at the input size
  std::vector<float> thresholds;                // per unit (dissect)
  std::vector<std::vector<TopActivation>> top;  // per unit, highest first
  std::optional<UnitIoU> iou;                   // dissect with annotations
  std::vector<cv::Mat> strips;                  // per unit: its top images side by side, RGB
};

struct UnitScan {
  std::vector<LayerUnits> layers;
  std::vector<std::pair<size_t, std::string>> skipped;  // image index, why
  int64_t images = 0;                                   // scanned (not skipped)
  bool annotated = false;                               // every scanned image had an annotation
  bool cached = false;  // pass 2 read pass 1's activations from memory
  double pass1_seconds = 0, pass2_seconds = 0;
};

// Throws ModelError for an unknown layer (listing the valid ones), EvalError
// when no image decodes, DataError for an annotation that cannot be read.
UnitScan scan_units(models::SceneModel& model, torch::Device device,
                    const std::vector<UnitImage>& images, const UnitScanOptions& options);

// The drawings, exposed for tests: `rgb` is the thumbnail-sized image, `map` h x w.
cv::Mat draw_threshold_region(const cv::Mat& rgb, const torch::Tensor& map, float threshold);
// The segmentation mask of Zhou et al. 2015 at `size` (uint8 0/1).
cv::Mat unit_segmentation_mask(const torch::Tensor& map, cv::Size size, double fraction);
cv::Mat draw_segmentation(const cv::Mat& rgb, const torch::Tensor& map, double fraction);

}  // namespace scenery::inspect
