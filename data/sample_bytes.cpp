#include "data/sample_bytes.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/core.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"

namespace scenery::data {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_file(const std::string& name, const std::string& reason) {
  throw DataError(fmt::format("{}: {}", name, reason));
}

// The largest file an image within `max_pixels` can be: 8 bytes a pixel
// (16-bit RGBA, uncompressed) plus room for metadata. Anything larger is not
// worth reading into memory to find out.
uint64_t max_file_bytes(int64_t max_pixels) {
  return static_cast<uint64_t>(max_pixels) * 8 + (uint64_t{64} << 20);
}

void check_file_size(const std::string& name, uint64_t size, int64_t max_pixels) {
  if (size == 0) fail_file(name, "empty file (0 bytes)");
  if (max_pixels > 0 && size > max_file_bytes(max_pixels))
    fail_file(name, fmt::format("file of {} bytes is larger than any image within "
                                "data.max_image_pixels = {} can be ({} bytes); not read",
                                size, max_pixels, max_file_bytes(max_pixels)));
}

std::atomic<uint64_t> g_shard_opens{0};

struct OpenShard {
  int fd = -1;
  explicit OpenShard(int f) : fd(f) {}
  ~OpenShard() {
    if (fd >= 0) ::close(fd);
  }
  OpenShard(const OpenShard&) = delete;
  OpenShard& operator=(const OpenShard&) = delete;
};

// Open shards, least recently used first out. A reader holds its shard's
// shared_ptr while it reads, so eviction never closes a descriptor in use.
class ShardCache {
 public:
  ShardCache() {
    // A quarter of the descriptor limit: the rest stays for sockets (NCCL,
    // c10d), checkpoints and the per-file datasets of validation.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      capacity_ = std::max<size_t>(4, static_cast<size_t>(limit.rlim_cur / 4));
  }

  std::shared_ptr<OpenShard> get(const std::string& path) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = map_.find(path); it != map_.end()) {
        lru_.splice(lru_.end(), lru_, it->second.second);
        return it->second.first;
      }
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    g_shard_opens.fetch_add(1, std::memory_order_relaxed);
    if (fd < 0) fail_file(path, fmt::format("cannot open shard: {}", std::strerror(errno)));
    auto shard = std::make_shared<OpenShard>(fd);
    std::lock_guard lock(mutex_);
    if (auto it = map_.find(path); it != map_.end()) return it->second.first;  // a racing open
    lru_.push_back(path);
    map_.emplace(path, std::pair{shard, std::prev(lru_.end())});
    while (map_.size() > capacity_) {
      map_.erase(lru_.front());
      lru_.pop_front();
    }
    return shard;
  }

 private:
  std::mutex mutex_;
  size_t capacity_ = 256;
  std::list<std::string> lru_;
  std::unordered_map<std::string,
                     std::pair<std::shared_ptr<OpenShard>, std::list<std::string>::iterator>>
      map_;
};

ShardCache& shard_cache() {
  static ShardCache cache;
  return cache;
}

std::vector<uint8_t> read_member(const Sample& sample, SampleFile f, int64_t max_pixels) {
  const MemberRange& m = sample.members[static_cast<int>(f)];
  const std::string name = sample.file(f).string();
  check_file_size(name, m.size, max_pixels);
  const auto shard = shard_cache().get(sample.shard.string());
  std::vector<uint8_t> bytes(m.size);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(shard->fd, bytes.data() + done, bytes.size() - done,
                              static_cast<off_t>(m.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_file(name, fmt::format("cannot read from its shard: {}", std::strerror(errno)));
    if (n == 0)
      fail_file(name, fmt::format("the shard ends after {} of the member's {} bytes (truncated "
                                  "or replaced since it was indexed)",
                                  done, bytes.size()));
    done += static_cast<size_t>(n);
  }
  return bytes;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const fs::path& file, int64_t max_pixels) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) fail_file(file.string(), "missing (no such file)");
  if (!fs::is_regular_file(status)) fail_file(file.string(), "not a regular file");
  const auto size = fs::file_size(file, ec);
  if (ec) fail_file(file.string(), "cannot read size: " + ec.message());
  check_file_size(file.string(), size, max_pixels);
  std::vector<uint8_t> bytes(size);
  std::ifstream in(file, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    fail_file(file.string(), "cannot read (permission or I/O error)");
  return bytes;
}

std::vector<uint8_t> read_sample_bytes(const Sample& sample, SampleFile f, int64_t max_pixels) {
  if (sample.file(f).empty())
    throw DataError(fmt::format("{}: the catalog has no {} for it", sample.image.string(),
                                f == SampleFile::kImage ? "image" : "such file"));
  if (sample.shard.empty()) return read_file_bytes(sample.file(f), max_pixels);
  return read_member(sample, f, max_pixels);
}

uint64_t shard_open_calls() {
  return g_shard_opens.load(std::memory_order_relaxed);
}

}  // namespace scenery::data
