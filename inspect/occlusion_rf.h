// Empirical receptive fields by occlusion (Zhou et al., "Object Detectors
// Emerge in Deep Scene CNNs", 2015, section 3.2), which the paper describes but
// never released: each of a unit's top images is occluded by small patches of
// random pixels on a grid; the discrepancy |a - a_occluded| of the unit's
// activation at its maximum location, per patch position, shows which part of
// the image the unit depends on. The maps of its top images are re-centred on
// the unit's location and averaged.
//
// Empirical RF size (our definition, the paper gives none in closed form): the
// side of the square whose area equals that of the region where the averaged
// map exceeds `fraction` (0.5) of its maximum, each grid cell counting
// stride x stride pixels.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/transforms.h"
#include "models/layer_taps.h"
#include "models/receptive_field.h"

namespace scenery::inspect {

struct OcclusionOptions {
  int patch = 11;       // side of each square patch, input pixels
  int stride = 3;       // grid step between patch positions
  uint64_t seed = 0;    // the random pixels of every patch
  int batch_size = 64;  // occluded images per forward
  double fraction = 0.5;
  data::NormalizeParams normalize;  // random pixels are uniform 0..255, normalised as the input
};

// Top-left corners along one axis of a side-`side` input: 0, stride, ..., the
// last that fits (side - patch when the grid lands on it). Throws EvalError
// when the patch does not fit.
std::vector<int> occlusion_positions(int side, int patch, int stride);

// rf.units: "0-7,12" -> 0..7, 12; "all" -> 0..units-1. Throws ConfigError for
// a unit outside 0..units-1 (the layer's count is known only once the network
// is loaded) or text that is not such a list.
std::vector<int64_t> parse_unit_list(const std::string& text, int64_t units);

// Where a unit's map peaks, in map cells, and the unoccluded value there.
struct UnitPeak {
  int64_t unit = 0, row = 0, col = 0;
  float value = 0;
};
// The first maximum in row-major order of each unit's map (U x h x w).
std::vector<UnitPeak> unit_peaks(const torch::Tensor& maps, const std::vector<int64_t>& units);

// For one preprocessed input (3 x S x S) and the peaks of some units of
// `layer`: per unit a G x G map (G = occlusion_positions(S).size()) of
// |peak value - the value at the peak with the patch at (gy, gx) occluded|.
// `image_seed` makes each image's patches its own.
std::vector<torch::Tensor> occlusion_discrepancy(const models::LayerTaps& taps,
                                                 const std::string& layer,
                                                 const torch::Tensor& input,
                                                 const std::vector<UnitPeak>& peaks,
                                                 const OcclusionOptions& options,
                                                 torch::Device device, uint64_t image_seed);

// Discrepancy maps re-centred on the unit's location and averaged: cell (R, R)
// of the (2R + 1) x (2R + 1) canvas is the unit's location, R = ceil((S - 1) / stride);
// each cell averages the images whose grid reaches it.
class RecentredAverage {
 public:
  RecentredAverage(int side, const OcclusionOptions& options);
  // `discrepancy`: G x G; `centre_y/x`: the unit's location in input pixels.
  void add(const torch::Tensor& discrepancy, double centre_y, double centre_x);
  int64_t images() const { return images_; }
  torch::Tensor average() const;  // float, (2R + 1)^2
  int radius() const { return radius_; }

 private:
  int side_, patch_, stride_, radius_;
  std::vector<int> positions_;
  torch::Tensor sum_, count_;
  int64_t images_ = 0;
};

// A peak's location in input pixels: the centre of its cell's theoretical
// field (start + cell * jump, models/receptive_field.h) when the layer chain
// gives one; else the cell's centre scaled to the input ((cell + 0.5) * S / h - 0.5).
double peak_location(int64_t cell, int64_t cells, int side);
double peak_location(int64_t cell, const models::ReceptiveField& field);

// The empirical RF size of an averaged map (see the header comment); 0 for a
// map that is zero everywhere.
double empirical_rf_size(const torch::Tensor& averaged, int stride, double fraction);

}  // namespace scenery::inspect
