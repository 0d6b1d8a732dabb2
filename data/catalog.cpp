#include "data/catalog.h"

#include <stdexcept>

namespace scenery::data {

Catalog::Catalog(std::string dataset, std::string split, std::filesystem::path root)
    : dataset_(std::move(dataset)), split_(std::move(split)), root_(std::move(root)) {}

void Catalog::reserve(size_t samples, size_t path_bytes) {
  labels_.reserve(samples);
  offsets_.reserve(samples * kFields + 1);
  pool_.reserve(path_bytes);
}

void Catalog::shrink_to_fit() {
  labels_.shrink_to_fit();
  offsets_.shrink_to_fit();
  // The pool is left alone: readers reserve it at about its final size, and
  // shrinking would briefly hold two copies of the largest buffer.
}

void Catalog::add(std::string_view image, int64_t label, std::string_view mask,
                  std::string_view semantic_classes, std::string_view semantic_scores) {
  // Offsets are shared between neighbours: sample i's field f spans
  // offsets_[i*kFields+f] .. offsets_[i*kFields+f+1].
  if (offsets_.empty()) offsets_.push_back(0);
  for (std::string_view part : {image, mask, semantic_classes, semantic_scores}) {
    pool_.append(part);
    offsets_.push_back(pool_.size());
  }
  labels_.push_back(label);
  has_masks_ = has_masks_ || !mask.empty();
  has_semantic_ = has_semantic_ || !semantic_classes.empty();
}

std::string_view Catalog::field(size_t i, int f) const {
  if (i >= labels_.size()) {
    throw std::out_of_range("catalog sample " + std::to_string(i) + " of " +
                            std::to_string(labels_.size()));
  }
  const size_t k = i * kFields + f;
  return std::string_view(pool_).substr(offsets_[k], offsets_[k + 1] - offsets_[k]);
}

std::filesystem::path Catalog::resolve(std::string_view p) const {
  if (p.empty()) return {};
  std::filesystem::path path(p);
  return path.is_absolute() || root_.empty() ? path : root_ / path;
}

Sample Catalog::at(size_t i) const {
  Sample s;
  s.image = resolve(field(i, 0));
  s.label = labels_[i];
  s.mask = resolve(field(i, 1));
  s.semantic_classes = resolve(field(i, 2));
  s.semantic_scores = resolve(field(i, 3));
  return s;
}

size_t Catalog::memory_bytes() const {
  return pool_.capacity() + offsets_.capacity() * sizeof(uint64_t) +
         labels_.capacity() * sizeof(int64_t);
}

}  // namespace scenery::data
