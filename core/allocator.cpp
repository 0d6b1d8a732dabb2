#include "core/allocator.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scenery {

void retain_freed_memory() {
  const char* keep = std::getenv("SCENERY_KEEP_MALLOC_DEFAULTS");
  if (keep && std::strcmp(keep, "1") == 0) return;
#if defined(__GLIBC__)
  // No per-block mmap (large blocks come from the heap and stay there), and
  // never trim the heap's top back to the kernel.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace scenery
