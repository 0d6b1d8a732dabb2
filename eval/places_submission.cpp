#include "eval/places_submission.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"

namespace scenery::eval {
namespace fs = std::filesystem;

std::vector<int64_t> top_labels(const float* scores, int64_t num_classes, int k) {
  std::vector<int64_t> idx(num_classes);
  std::iota(idx.begin(), idx.end(), 0);
  const int64_t kk = std::min<int64_t>(k, num_classes);
  std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(), [&](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  idx.resize(kk);
  return idx;
}

PlacesSubmissionWriter::PlacesSubmissionWriter(int64_t num_classes) : num_classes_(num_classes) {
  if (num_classes < kPlacesSubmissionLabels) {
    throw EvalError(
        fmt::format("a Places submission lists {} labels, but the model has only {} "
                    "classes",
                    kPlacesSubmissionLabels, num_classes));
  }
}

void PlacesSubmissionWriter::add(const std::vector<std::string>& names,
                                 const torch::Tensor& scores_in) {
  if (scores_in.dim() != 2 || scores_in.size(0) != static_cast<int64_t>(names.size()) ||
      scores_in.size(1) != num_classes_) {
    throw EvalError(fmt::format("submission scores must be [{}, {}], got {}", names.size(),
                                num_classes_, fmt::join(scores_in.sizes(), "x")));
  }
  const auto scores = scores_in.detach().to(torch::kCPU, torch::kFloat).contiguous();
  for (size_t i = 0; i < names.size(); ++i) {
    const auto top = top_labels(scores.data_ptr<float>() + i * num_classes_, num_classes_,
                                kPlacesSubmissionLabels);
    std::array<int32_t, kPlacesSubmissionLabels> row{};
    std::copy(top.begin(), top.end(), row.begin());
    if (!rows_.emplace(names[i], row).second) duplicates_.push_back(names[i]);
  }
}

void PlacesSubmissionWriter::write(const fs::path& file) const {
  if (!duplicates_.empty()) {
    throw EvalError(
        fmt::format("image '{}' was predicted twice; a submission has one line per "
                    "test image",
                    duplicates_.front()));
  }
  write_file_atomic(file, text());
}

std::string PlacesSubmissionWriter::text() const {
  std::string text;
  text.reserve(rows_.size() * 48);
  for (const auto& [name, labels] : rows_) {  // std::map: sorted bytewise by filename
    text += fmt::format("{} {}\n", name, fmt::join(labels, " "));
  }
  return text;
}

void PlacesSubmissionWriter::add_text(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string name;
    std::array<int32_t, kPlacesSubmissionLabels> row{};
    in >> name;
    for (auto& label : row)
      in >> label;
    if (!in || name.empty()) throw EvalError(fmt::format("malformed submission row '{}'", line));
    if (!rows_.emplace(name, row).second) duplicates_.push_back(name);
  }
}

namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r')
      ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

int64_t parse_label(std::string_view token, int64_t num_classes, const std::string& where) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (ec != std::errc() || end != token.data() + token.size()) {
    throw EvalError(fmt::format("{}: label '{}' is not an integer", where, token));
  }
  if (v < 0 || v >= num_classes) {
    throw EvalError(fmt::format("{}: label {} is outside 0..{}", where, v, num_classes - 1));
  }
  return v;
}

std::ifstream open_or_throw(const fs::path& file, const char* what) {
  std::ifstream in(file);
  if (!in) throw EvalError(fmt::format("cannot read {} '{}'", what, file.string()));
  return in;
}

}  // namespace

PlacesScore score_places_submission(const fs::path& submission, const fs::path& ground_truth,
                                    int64_t num_classes) {
  std::unordered_map<std::string, int64_t> truth;
  {
    auto in = open_or_throw(ground_truth, "ground-truth list");
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      const std::string where = fmt::format("{}:{}", ground_truth.string(), line_no);
      const auto tokens = split_ws(line);
      if (tokens.empty()) continue;
      if (tokens.size() != 2) {
        throw EvalError(fmt::format("{}: expected '<file> <label>', got '{}'", where, line));
      }
      if (!truth.emplace(std::string(tokens[0]), parse_label(tokens[1], num_classes, where))
               .second) {
        throw EvalError(fmt::format("{}: image '{}' listed twice", where, tokens[0]));
      }
    }
  }

  std::unordered_map<std::string, int> seen_at;
  std::array<int64_t, kPlacesSubmissionLabels> hits{};
  auto in = open_or_throw(submission, "submission");
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = fmt::format("{}:{}", submission.string(), line_no);
    const auto tokens = split_ws(line);
    if (tokens.empty()) continue;
    const std::string name(tokens[0]);
    if (tokens.size() != 1 + kPlacesSubmissionLabels) {
      throw EvalError(fmt::format("{}: expected '{}' followed by exactly {} labels, got {}", where,
                                  name, kPlacesSubmissionLabels, tokens.size() - 1));
    }
    if (auto [it, inserted] = seen_at.emplace(name, line_no); !inserted) {
      throw EvalError(
          fmt::format("{}: duplicate entry for '{}' (first on line {})", where, name, it->second));
    }
    const auto gt = truth.find(name);
    if (gt == truth.end()) {
      throw EvalError(fmt::format("{}: '{}' is not in the ground truth '{}'", where, name,
                                  ground_truth.string()));
    }
    // Every label is validated, even after the true one was found. A repeated
    // label is refused: five guesses must be five different classes, or a
    // buggy writer would look better at top-5 than it is at top-1.
    bool found = false;
    std::array<int64_t, kPlacesSubmissionLabels> labels{};
    for (int n = 0; n < kPlacesSubmissionLabels; ++n) {
      labels[n] = parse_label(tokens[1 + n], num_classes, where);
      for (int m = 0; m < n; ++m) {
        if (labels[m] == labels[n]) {
          throw EvalError(
              fmt::format("{}: label {} of '{}' repeated (positions {} and {}); the {} "
                          "labels must be different classes",
                          where, labels[n], name, m + 1, n + 1, kPlacesSubmissionLabels));
        }
      }
      found = found || labels[n] == gt->second;
      hits[n] += found;
    }
  }
  if (seen_at.size() != truth.size()) {
    std::vector<std::string> missing;
    for (const auto& [name, label] : truth) {
      if (!seen_at.count(name)) missing.push_back(name);
    }
    std::sort(missing.begin(), missing.end());
    if (missing.size() > 5) missing.resize(5), missing.push_back("...");
    throw EvalError(
        fmt::format("submission '{}' has {} lines but the ground truth has {} images; "
                    "missing: {}",
                    submission.string(), seen_at.size(), truth.size(), fmt::join(missing, ", ")));
  }
  PlacesScore score;
  score.images = static_cast<int64_t>(truth.size());
  for (int n = 0; n < kPlacesSubmissionLabels; ++n) {
    score.error[n] = score.images == 0 ? 0.0 : 1.0 - static_cast<double>(hits[n]) / score.images;
  }
  return score;
}

}  // namespace scenery::eval
