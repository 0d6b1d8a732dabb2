// The Places365 challenge submission: one text line per test image, sorted by
// filename, `Places365_test_00000001.jpg 12 0 364 45 7` — exactly five 0-based
// labels in descending confidence — and the official-style scorer that matches
// lines to ground truth by filename.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace scenery::eval {

constexpr int kPlacesSubmissionLabels = 5;

// Collects the top-5 labels per image; writing sorts by filename.
class PlacesSubmissionWriter {
 public:
  explicit PlacesSubmissionWriter(int64_t num_classes);

  // scores: [N, C]; names: the N image file names (no directory). Labels are
  // ordered by descending score, ties by ascending class index.
  void add(const std::vector<std::string>& names, const torch::Tensor& scores);
  size_t size() const { return rows_.size(); }
  // Writes the file atomically; throws EvalError on a duplicate image name.
  void write(const std::filesystem::path& file) const;
  // The file's text, and adding another writer's text (data-parallel ranks
  // hand their rows to rank 0, which writes the one sorted file).
  std::string text() const;
  void add_text(const std::string& text);

 private:
  int64_t num_classes_;
  std::map<std::string, std::array<int32_t, kPlacesSubmissionLabels>> rows_;
  std::vector<std::string> duplicates_;
};

// The labels a score row ranks first (descending, ties by ascending index).
std::vector<int64_t> top_labels(const float* scores, int64_t num_classes, int k);

struct PlacesScore {
  int64_t images = 0;
  std::array<double, kPlacesSubmissionLabels> error{};  // error[n-1] = 1 - mean(gt in top-n)
  double top1() const { return 1.0 - error[0]; }
  double top5() const { return 1.0 - error[4]; }
};

// Reads `ground_truth` (`<file> <label>` lines, as places365_val.txt) and scores
// `submission` against it. Rejects, naming file and line: duplicates, missing or
// extra images, a line without exactly five labels, a label repeated within a
// line, non-integer or out-of-range labels (0..num_classes-1).
PlacesScore score_places_submission(const std::filesystem::path& submission,
                                    const std::filesystem::path& ground_truth,
                                    int64_t num_classes = 365);

}  // namespace scenery::eval
