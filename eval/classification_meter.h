// Streaming scene-classification metrics: Top-k accuracy for any k, per-class
// top-1 accuracy, mean class accuracy (both conventions) and the confusion matrix.
// Holds only counters (O(classes^2)), never per-sample data, and merges across
// threads and processes.
//
// Ties: a sample's rank is the number of classes scoring strictly higher than
// its true class plus the number scoring equal with a lower index. So equal
// scores are ordered by ascending class index, exactly as a stable descending
// sort would order them; top-1 predictions use the same rule. This is
// deterministic and independent of torch::topk's unspecified tie order.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace scenery::eval {

// Mean class accuracy conventions (FORMATS.md, "Official metrics").
enum class McaConvention {
  kPresentClasses,  // mean over classes present in the ground truth (default)
  kAllClasses,      // mean over all classes, absent ones counted as 0 (Semantic-Aware paper)
};
std::string mca_convention_name(McaConvention c);

class ClassificationMeter {
 public:
  explicit ClassificationMeter(int64_t num_classes, std::vector<int64_t> ks = {1, 2, 5});

  // scores: [N, C] (logits or probabilities, any float dtype); labels: [N] in 0..C-1.
  // Throws EvalError on shape mismatch, labels out of range or NaN scores.
  void add(const torch::Tensor& scores, const torch::Tensor& labels);
  void merge(const ClassificationMeter& other);
  void reset();

  int64_t count() const { return total_; }
  int64_t num_classes() const { return num_classes_; }
  const std::vector<int64_t>& ks() const { return ks_; }
  // Fraction of samples whose label is among the k highest scores (k must be one of ks()).
  double topk(int64_t k) const;
  // Top-1 accuracy of class c; NaN when the class has no sample.
  double class_accuracy(int64_t c) const;
  int64_t class_count(int64_t c) const { return class_total_.at(c); }
  double mean_class_accuracy(McaConvention convention = McaConvention::kPresentClasses) const;
  // Row = true class, column = top-1 prediction.
  const std::vector<int64_t>& confusion() const { return confusion_; }
  int64_t confusion_at(int64_t truth, int64_t predicted) const {
    return confusion_[truth * num_classes_ + predicted];
  }

  // All counters as one int64 tensor, for all-reduce across processes, and back.
  torch::Tensor state() const;
  void merge_state(const torch::Tensor& state);

 private:
  int64_t num_classes_;
  std::vector<int64_t> ks_;
  int64_t total_ = 0;
  std::vector<int64_t> correct_at_k_;  // per entry of ks_
  std::vector<int64_t> class_total_;
  std::vector<int64_t> confusion_;  // C x C, row-major
};

}  // namespace scenery::eval
