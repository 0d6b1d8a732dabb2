// The exact q-quantile of each unit's activations over every spatial position
// of every image of a dataset — the per-unit threshold of Network Dissection
// (q = 0.995) — deterministic, in one pass and bounded memory.
//
// Definition: numpy.quantile's default ("linear"): with the N values sorted
// ascending and p = q (N - 1), x[floor(p)] + (p - floor(p)) (x[floor(p) + 1] - x[floor(p)]).
// Only the order statistics from floor(p) up are needed, i.e. the largest
// K = N - floor(p) values (0.5 % of them, plus one, at q = 0.995); each unit
// keeps those in a min-heap while the data streams by. Memory: K floats per
// unit, e.g. 2,001 for 400,000 activations (2,000 images of a 14 x 14 map).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace scenery::inspect {

class UnitQuantile {
 public:
  // `values_per_unit`: N, the most activations each unit will see (images
  // that fail to decode may make it fewer). Throws EvalError for q outside
  // [0, 1] or N < 1.
  UnitQuantile(int64_t units, int64_t values_per_unit, double q = 0.995);

  // A batch of activations: B x units x h x w (or units x n). Throws EvalError
  // when the unit count differs or more than N values arrive.
  void add(const torch::Tensor& activations);

  int64_t seen() const { return seen_; }
  int64_t kept_per_unit() const { return keep_; }

  // The quantile of every unit over the n <= N values added: keeping the
  // largest N - floor(q (N - 1)) values keeps the n - floor(q (n - 1)) that n
  // values need. Throws EvalError when nothing was added.
  std::vector<float> thresholds() const;

 private:
  int64_t units_, total_;
  double q_;
  int64_t keep_;
  int64_t seen_ = 0;
  std::vector<std::vector<float>> heaps_;  // per unit, a min-heap of its largest values
};

}  // namespace scenery::inspect
