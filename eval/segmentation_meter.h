// Streaming scene-parsing metrics exactly as the ADE20K devkit defines them
// (FORMATS.md): pixels with ground truth 0 are ignored; pixel accuracy and
// per-class intersection/union are summed over the whole dataset before
// dividing; mIoU is the plain mean over all classes 1..C, a class absent from
// both prediction and ground truth scoring 0; a prediction of 0 (or of any
// value outside 1..C) on a labelled pixel is simply wrong.
//
// The meter keeps one joint histogram of (ground truth, prediction) byte pairs,
// which is the full confusion matrix: every metric derives from it and merging
// meters is adding histograms.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace scenery::eval {

class SegmentationMeter {
 public:
  explicit SegmentationMeter(int num_classes = 150);

  // One image (or any number of pixels): labels as raw bytes, 0 = unlabelled.
  void add(const uint8_t* prediction, const uint8_t* ground_truth, size_t pixels);
  // prediction / ground_truth: integer tensors of identical shape, values 0..255.
  void add(const torch::Tensor& prediction, const torch::Tensor& ground_truth);
  void merge(const SegmentationMeter& other);
  void reset();

  int num_classes() const { return num_classes_; }
  int64_t labelled_pixels() const;
  int64_t correct_pixels() const;
  double pixel_accuracy() const;
  int64_t intersection(int c) const;
  int64_t union_(int c) const;
  double iou(int c) const;                    // 0 when the union is empty
  std::vector<double> per_class_iou() const;  // index 0 = class 1
  double mean_iou() const;
  // Classes with ground-truth pixels, and the mean IoU over them only: not the
  // official number (which averages all classes, absent ones as 0), but what
  // a dataset covering few of the 150 classes can be compared by.
  int classes_present() const;
  double mean_iou_present() const;
  double challenge_score() const { return (pixel_accuracy() + mean_iou()) / 2; }
  // Pixels of true class `truth` predicted as `predicted` (both 0..255).
  int64_t joint(int truth, int predicted) const;

  // The joint histogram as an int64 tensor [256*256], for all-reduce, and back.
  torch::Tensor state() const;
  void merge_state(const torch::Tensor& state);

 private:
  // Folds the pending 32-bit partial counts into hist_. Queries call it, so a
  // meter is not to be read and written from two threads at once (use one
  // meter per thread and merge them).
  void flush() const;
  bool has_truth(int c) const;  // any ground-truth pixel of class c

  int num_classes_;
  mutable std::vector<int64_t> hist_;      // 256 x 256: [truth][prediction]
  mutable std::vector<uint32_t> partial_;  // 4 x 65536 interleaved partial counts
  mutable size_t pending_ = 0;
};

}  // namespace scenery::eval
