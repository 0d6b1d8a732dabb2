// Reading the member table of a tar archive (a WebDataset shard) without
// reading the members: each regular file's name, and where its bytes lie, so a
// loader can later fetch any one member with a single pread.
//
// Formats: POSIX ustar (name + prefix), pax extended headers ('x': path and
// size records; 'g' global headers are read and ignored) and GNU long names
// ('L'), base-256 sizes: what Python's tarfile (PAX by default), GNU tar and
// the webdataset writer produce. Directories, links and devices are skipped.
//
// Why our own reader rather than libarchive: the loader needs each member's
// byte offset to pread it later from any thread; libarchive streams members
// and does not report data offsets. The header parsing here is small, bounded
// (no allocation a header can inflate beyond kMaxExtendedHeaderBytes) and
// fuzzed (fuzz_tar).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace scenery::data {

struct TarMember {
  std::string name;            // full path inside the archive
  uint64_t header_offset = 0;  // first header block of the member (extended headers included)
  uint64_t data_offset = 0;    // first byte of its data
  uint64_t size = 0;           // bytes of data
};

struct TarScan {
  std::vector<TarMember> members;  // regular files, in archive order
  // False when the archive ends without its end-of-archive zero block (a
  // shard cut exactly at a member boundary: what it holds is intact, but
  // members may be missing).
  bool has_end_marker = false;
  // Why reading stopped early (a damaged header, a member running past the
  // end: truncated), naming the archive and byte offset; empty when the whole
  // archive was read. `members` then holds the intact members before it.
  std::string damage;
};

// Tar's unit: headers and padded member data are whole 512-byte blocks.
inline constexpr uint64_t kTarBlock = 512;

// pread-like source: copies `size` bytes at `offset` into `out`, returns the
// bytes copied (fewer only at the end of the source).
using ReadAt = std::function<size_t(uint64_t offset, size_t size, char* out)>;

// A ReadAt over an open file descriptor (pread, retried on EINTR).
ReadAt read_at_fd(int fd);

// Largest pax or GNU long-name header accepted (real ones are under 1 kB).
inline constexpr uint64_t kMaxExtendedHeaderBytes = 1 << 20;

// Scans an archive of `total_size` bytes. A damaged header (bad checksum, bad
// number, bad pax record) or a member whose data runs past the end ends the
// scan with TarScan::damage set; it never throws for the archive's content.
TarScan scan_tar(const ReadAt& read, uint64_t total_size, const std::string& name);

// The same for a file on disk (DataError naming it if it cannot be opened).
TarScan scan_tar_file(const std::string& path);

}  // namespace scenery::data
