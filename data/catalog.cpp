#include "data/catalog.h"

#include <stdexcept>

namespace scenery::data {

Catalog::Catalog(std::string dataset, std::string split, std::filesystem::path root)
    : dataset_(std::move(dataset)), split_(std::move(split)), root_(std::move(root)) {}

void Catalog::reserve(size_t samples, size_t path_bytes) {
  labels_.reserve(samples);
  if (sharded()) {
    sample_shard_.reserve(samples);
    ranges_.reserve(samples * kFields);
  }
  offsets_.reserve(samples * kFields + 1);
  pool_.reserve(path_bytes);
}

void Catalog::shrink_to_fit() {
  labels_.shrink_to_fit();
  sample_shard_.shrink_to_fit();
  ranges_.shrink_to_fit();
  offsets_.shrink_to_fit();
  // The pool is left alone: readers reserve it at about its final size, and
  // shrinking would briefly hold two copies of the largest buffer.
}

uint32_t Catalog::add_shard(const std::filesystem::path& shard) {
  shards_.push_back(shard);
  return static_cast<uint32_t>(shards_.size() - 1);
}

void Catalog::add_member_sample(uint32_t shard, int64_t label,
                                const std::string_view (&names)[kFields],
                                const MemberRange (&ranges)[kFields]) {
  if (shard >= shards_.size())
    throw std::out_of_range("shard " + std::to_string(shard) + " of " +
                            std::to_string(shards_.size()));
  if (sample_shard_.size() != labels_.size())
    throw std::logic_error("a catalog holds either files or shard members, not both");
  add(names[0], label, names[1], names[2], names[3]);
  sample_shard_.push_back(shard);
  ranges_.insert(ranges_.end(), ranges, ranges + kFields);
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
  if (sharded()) {
    field(i, 0);  // range check
    s.shard = shards_[sample_shard_[i]];
    s.label = labels_[i];
    std::filesystem::path* paths[kFields] = {&s.image, &s.mask, &s.semantic_classes,
                                             &s.semantic_scores};
    for (int f = 0; f < kFields; ++f) {
      const std::string_view name = field(i, f);
      if (!name.empty()) *paths[f] = s.shard / std::string(name);
      s.members[f] = ranges_[i * kFields + f];
    }
    return s;
  }
  s.image = resolve(field(i, 0));
  s.label = labels_[i];
  s.mask = resolve(field(i, 1));
  s.semantic_classes = resolve(field(i, 2));
  s.semantic_scores = resolve(field(i, 3));
  return s;
}

size_t Catalog::memory_bytes() const {
  return pool_.capacity() + offsets_.capacity() * sizeof(uint64_t) +
         labels_.capacity() * sizeof(int64_t) + sample_shard_.capacity() * sizeof(uint32_t) +
         ranges_.capacity() * sizeof(MemberRange);
}

const std::filesystem::path& Sample::file(SampleFile f) const {
  switch (f) {
    case SampleFile::kImage:
      return image;
    case SampleFile::kMask:
      return mask;
    case SampleFile::kSemanticClasses:
      return semantic_classes;
    case SampleFile::kSemanticScores:
      break;
  }
  return semantic_scores;
}

}  // namespace scenery::data
