#include "core/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scenery {
namespace {

#if defined(__GLIBC__)
// glibc's own accounting is the truth here: hblkhd counts bytes in per-block
// mmaps, arena the heap obtained with brk.
TEST(RetainFreedMemory, LargeBlocksComeFromTheHeapAndStayThereAfterFree) {
  constexpr size_t kBlock = 96u << 20;  // above glibc's largest mmap threshold (32 MB)
  const struct mallinfo2 before = mallinfo2();
  void* plain = std::malloc(kBlock);
  ASSERT_NE(plain, nullptr);
  EXPECT_GE(mallinfo2().hblkhd, before.hblkhd + kBlock);  // default: its own mmap
  std::free(plain);

  retain_freed_memory();
  void* kept = std::malloc(kBlock);
  ASSERT_NE(kept, nullptr);
  std::memset(kept, 1, kBlock);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd);  // no mmap for it
  EXPECT_GE(during.arena, kBlock);          // but heap
  std::free(kept);
  EXPECT_GE(mallinfo2().arena, kBlock);  // and the heap was not trimmed back
  void* again = std::malloc(kBlock);     // the same memory serves the next step
  EXPECT_EQ(again, kept);
  std::free(again);
}
#endif

}  // namespace
}  // namespace scenery
