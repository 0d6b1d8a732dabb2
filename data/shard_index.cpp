#include "data/shard_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <boost/crc.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace scenery::data {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'S', 'C', 'N', 'Y', 'I', 'D', 'X', '1'};
constexpr uint64_t kMaxClsBytes = 64;

bool is_image_extension(const std::string& ext) {
  static const char* const kImages[] = {"jpg", "jpeg", "png", "webp", "bmp",
                                        "ppm", "pgm",  "pnm", "tif",  "tiff"};
  return std::find_if(std::begin(kImages), std::end(kImages),
                      [&](const char* e) { return ext == e; }) != std::end(kImages);
}

// Which of a sample's files an extension names; -1: none (the label or ignored).
int file_slot(const std::string& ext) {
  if (is_image_extension(ext)) return static_cast<int>(SampleFile::kImage);
  if (ext == "seg.png") return static_cast<int>(SampleFile::kMask);
  if (ext == "top3_classes.png") return static_cast<int>(SampleFile::kSemanticClasses);
  if (ext == "top3_scores.png") return static_cast<int>(SampleFile::kSemanticScores);
  return -1;
}

std::optional<int64_t> parse_label(const std::string& text) {
  size_t a = text.find_first_not_of(" \t\r\n"), b = text.find_last_not_of(" \t\r\n");
  if (a == std::string::npos) return std::nullopt;
  const std::string t = text.substr(a, b - a + 1);
  if (t.size() > 12 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(t);
}

// One sample being assembled from adjacent members.
struct Pending {
  ShardSample sample;
  std::string fault_member, fault;  // the first fault found, if any
  bool has_cls = false;
  void fault_at(const std::string& member, const std::string& why) {
    if (fault.empty()) fault_member = member, fault = why;
  }
};

class Grouper {
 public:
  Grouper(const ReadAt& read, const std::string& shard) : read_(read), shard_(shard) {}

  void add(const TarMember& m) {
    const auto parts = split_member_name(m.name);
    if (!parts) {
      out_.faults.push_back({m.name, "member name without an extension (expected KEY.EXT)"});
      return;
    }
    const auto& [key, ext] = *parts;
    if (!current_ || current_->sample.key != key) {
      finish();
      if (!seen_.emplace(key, out_.samples.size()).second) {
        // The key was met before other samples: its members are not adjacent.
        current_.emplace();
        current_->sample.key = key;
        current_->fault_at(m.name, fmt::format("key '{}' appears again after other samples "
                                               "(duplicate key, or members not adjacent)",
                                               key));
      } else {
        current_.emplace();
        current_->sample.key = key;
      }
    }
    Pending& p = *current_;
    if (m.size == 0) p.fault_at(m.name, "zero-byte member");
    if (ext == "cls") {
      if (p.has_cls) p.fault_at(m.name, "a second .cls member for the same key");
      p.has_cls = true;
      read_label(m, p);
      return;
    }
    const int slot = file_slot(ext);
    if (slot < 0) return;
    if (!p.sample.member_names[slot].empty())
      p.fault_at(m.name, fmt::format("a second {} for key '{}' (also {})",
                                     slot == 0 ? "image" : "'." + ext + "' member", key,
                                     p.sample.member_names[slot]));
    p.sample.member_names[slot] = m.name;
    p.sample.members[slot] = {m.data_offset, m.size};
  }

  ShardIndex finish_all(const TarScan& scan) {
    finish();
    out_.damage = scan.damage;
    out_.has_end_marker = scan.has_end_marker;
    return std::move(out_);
  }

 private:
  void read_label(const TarMember& m, Pending& p) {
    if (m.size == 0) return;
    if (m.size > kMaxClsBytes) {
      p.fault_at(m.name, fmt::format(".cls of {} bytes is not a class index", m.size));
      return;
    }
    std::string text(m.size, '\0');
    if (read_(m.data_offset, m.size, text.data()) != m.size) {
      p.fault_at(m.name, "cannot read the .cls member");
      return;
    }
    const auto label = parse_label(text);
    if (!label) {
      p.fault_at(m.name, fmt::format("'{}' is not a decimal class index",
                                     text.substr(0, std::min<size_t>(text.size(), 20))));
      return;
    }
    p.sample.label = *label;
  }

  void finish() {
    if (!current_) return;
    Pending& p = *current_;
    if (p.fault.empty() && p.sample.member_names[0].empty())
      p.fault_at(p.sample.key, "no image member (.jpg, .jpeg, .png, .webp, ...)");
    if (p.fault.empty())
      out_.samples.push_back(std::move(p.sample));
    else
      out_.faults.push_back({p.fault_member, p.fault});
    current_.reset();
  }

  const ReadAt& read_;
  const std::string& shard_;
  ShardIndex out_;
  std::optional<Pending> current_;
  std::unordered_map<std::string, size_t> seen_;
};

// Little-endian writer / bounds-checked reader of the index format.
class Encoder {
 public:
  template <class T>
  void num(T v) {
    for (size_t i = 0; i < sizeof(T); ++i)
      out_.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  }
  void text(const std::string& s) {
    num<uint32_t>(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void raw(const char* p, size_t n) { out_.append(p, n); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Decoder {
 public:
  Decoder(const std::string& in, size_t end) : in_(in), end_(end) {}
  template <class T>
  bool num(T* v) {
    if (end_ - pos_ < sizeof(T)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      x |= static_cast<uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    *v = static_cast<T>(x);
    return true;
  }
  bool text(std::string* s, size_t max = 1 << 16) {
    uint32_t n = 0;
    if (!num(&n) || n > max || end_ - pos_ < n) return false;
    *s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool count(uint32_t* n, size_t min_record_bytes) {
    // A count that the remaining bytes cannot hold is damage, not an allocation.
    return num(n) && static_cast<uint64_t>(*n) * min_record_bytes <= end_ - pos_;
  }
  bool done() const { return pos_ == end_; }

 private:
  const std::string& in_;
  size_t end_, pos_ = 0;
};

uint32_t crc32_of(const char* p, size_t n) {
  boost::crc_32_type crc;
  crc.process_bytes(p, n);
  return crc.checksum();
}

struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

FileStamp stamp_of(const fs::path& shard) {
  struct stat st {};
  if (::stat(shard.c_str(), &st) != 0)
    throw DataError(fmt::format("{}: cannot open shard: {}", shard.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw DataError(fmt::format("{}: not a regular file", shard.string()));
  return {static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

std::optional<std::pair<std::string, std::string>> split_member_name(const std::string& name) {
  const size_t slash = name.rfind('/');
  const size_t base = slash == std::string::npos ? 0 : slash + 1;
  const size_t dot = name.find('.', base);
  if (dot == std::string::npos || dot == base || dot + 1 == name.size()) return std::nullopt;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::pair{name.substr(0, dot), ext};
}

ShardIndex index_members(const TarScan& scan, const ReadAt& read, const std::string& shard_name) {
  Grouper g(read, shard_name);
  for (const TarMember& m : scan.members)
    g.add(m);
  return g.finish_all(scan);
}

ShardIndex build_shard_index(const fs::path& shard) {
  const int fd = ::open(shard.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw DataError(fmt::format("{}: cannot open shard: {}", shard.string(), std::strerror(errno)));
  const ReadAt read = read_at_fd(fd);
  try {
    struct stat st {};
    ::fstat(fd, &st);
    const TarScan scan = scan_tar(read, static_cast<uint64_t>(st.st_size), shard.string());
    ShardIndex index = index_members(scan, read, shard.string());
    ::close(fd);
    return index;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string encode_shard_index(const ShardIndex& index, uint64_t shard_size, int64_t mtime_ns) {
  Encoder e;
  e.raw(kMagic, sizeof(kMagic));
  e.num<uint64_t>(shard_size);
  e.num<int64_t>(mtime_ns);
  e.num<uint8_t>(index.has_end_marker ? 1 : 0);
  e.text(index.damage);
  e.num<uint32_t>(static_cast<uint32_t>(index.samples.size()));
  for (const ShardSample& s : index.samples) {
    e.text(s.key);
    e.num<int64_t>(s.label);
    for (int f = 0; f < 4; ++f) {
      e.text(s.member_names[f]);
      e.num<uint64_t>(s.members[f].offset);
      e.num<uint64_t>(s.members[f].size);
    }
  }
  e.num<uint32_t>(static_cast<uint32_t>(index.faults.size()));
  for (const ShardFault& f : index.faults) {
    e.text(f.member);
    e.text(f.reason);
  }
  const uint32_t crc = crc32_of(e.bytes().data(), e.bytes().size());
  e.num<uint32_t>(crc);
  return std::move(e.bytes());
}

std::optional<ShardIndex> decode_shard_index(const std::string& bytes, uint64_t shard_size,
                                             int64_t mtime_ns) {
  if (bytes.size() < sizeof(kMagic) + 4 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return std::nullopt;
  const size_t body = bytes.size() - 4;
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[body + i])) << (8 * i);
  if (stored != crc32_of(bytes.data(), body)) return std::nullopt;
  Decoder d(bytes, body);
  char magic[sizeof(kMagic)];
  for (char& c : magic)
    if (!d.num(&c)) return std::nullopt;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint8_t end_marker = 0;
  ShardIndex index;
  if (!d.num(&size) || !d.num(&mtime) || !d.num(&end_marker) || !d.text(&index.damage))
    return std::nullopt;
  if (size != shard_size || mtime != mtime_ns) return std::nullopt;
  index.has_end_marker = end_marker != 0;
  uint32_t n = 0;
  if (!d.count(&n, 4 + 8 + 4 * 20)) return std::nullopt;
  index.samples.resize(n);
  for (ShardSample& s : index.samples) {
    if (!d.text(&s.key) || !d.num(&s.label)) return std::nullopt;
    for (int f = 0; f < 4; ++f) {
      if (!d.text(&s.member_names[f]) || !d.num(&s.members[f].offset) || !d.num(&s.members[f].size))
        return std::nullopt;
      if (s.members[f].offset > shard_size || s.members[f].size > shard_size - s.members[f].offset)
        return std::nullopt;
    }
  }
  uint32_t faults = 0;
  if (!d.count(&faults, 8)) return std::nullopt;
  index.faults.resize(faults);
  for (ShardFault& f : index.faults)
    if (!d.text(&f.member) || !d.text(&f.reason)) return std::nullopt;
  if (!d.done()) return std::nullopt;
  return index;
}

fs::path shard_index_path(const fs::path& shard) {
  return shard.parent_path() / (shard.filename().string() + ".idx");
}

void save_shard_index(const fs::path& shard, const ShardIndex& index) {
  const FileStamp st = stamp_of(shard);
  write_file_atomic(shard_index_path(shard), encode_shard_index(index, st.size, st.mtime_ns));
}

std::optional<ShardIndex> read_saved_shard_index(const fs::path& shard) {
  const FileStamp st = stamp_of(shard);
  const fs::path idx = shard_index_path(shard);
  std::error_code ec;
  if (!fs::is_regular_file(idx, ec)) return std::nullopt;
  std::ifstream in(idx, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return decode_shard_index(text.str(), st.size, st.mtime_ns);
}

ShardIndex load_shard_index(const fs::path& shard) {
  const FileStamp st = stamp_of(shard);
  const fs::path idx = shard_index_path(shard);
  std::error_code ec;
  if (fs::is_regular_file(idx, ec)) {
    if (auto index = read_saved_shard_index(shard)) return *index;
    log::warn(
        "{}: index does not match its shard (changed, copied or damaged): scanning the "
        "shard again",
        idx.string());
  }
  ShardIndex index = build_shard_index(shard);
  try {
    write_file_atomic(idx, encode_shard_index(index, st.size, st.mtime_ns));
  } catch (const IoError& e) {
    static std::once_flag once;
    std::call_once(once, [&] {
      log::info("shard indexes are kept in memory: cannot write beside the shards ({})", e.what());
    });
  }
  return index;
}

}  // namespace scenery::data
