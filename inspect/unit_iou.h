// Network Dissection's score of a unit for a class, summed over a whole dataset:
// per image the unit's map is resized bilinearly to the annotation, A = map > T_u,
// and with label 0 ignored IoU(u, c) = sum |A & c| / (sum |A| + sum |c| - sum |A & c|).
// Integer sums: the order of images cannot change a score.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace scenery::inspect {

class UnitIoU {
 public:
  // Annotation values 1..classes are classes; 0 is ignored, larger values are an error.
  UnitIoU(int64_t units, int64_t classes);

  // `maps`: units x h x w activations of one image; `thresholds`: one per unit;
  // `labels`: H x W integer annotation. Throws EvalError for mismatched sizes or a
  // label above `classes`.
  void add(const torch::Tensor& maps, const std::vector<float>& thresholds,
           const torch::Tensor& labels);

  // 0 when the union is empty (a class absent everywhere and a unit never above
  // its threshold on labelled pixels).
  double iou(int64_t unit, int64_t cls) const;

  struct Match {
    int64_t cls = 0;  // 1-based class (annotation value)
    double iou = 0;
  };
  // The unit's best `n` classes, highest IoU first (ties: the lower class).
  std::vector<Match> best(int64_t unit, int n = 3) const;

  int64_t intersection(int64_t unit, int64_t cls) const;
  int64_t unit_area(int64_t unit) const { return unit_area_[static_cast<size_t>(unit)]; }
  int64_t class_area(int64_t cls) const { return class_area_[static_cast<size_t>(cls)]; }
  int64_t units() const { return units_; }
  int64_t classes() const { return classes_; }

 private:
  int64_t units_, classes_;
  std::vector<int64_t> intersection_;  // units x (classes + 1)
  std::vector<int64_t> unit_area_;     // |A| on labelled pixels
  std::vector<int64_t> class_area_;    // classes + 1
};

}  // namespace scenery::inspect
