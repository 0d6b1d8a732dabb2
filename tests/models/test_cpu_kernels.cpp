// The oneDNN 3 guard for CPUs without cache sizes (models/cpu_kernels.h).
#include "models/cpu_kernels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace scenery::models {
namespace {

// Linux fills /sys/devices/system/cpu/cpu0/cache from the same cpuid leaves
// (4, or 0x8000001D on AMD CPUs since 2011), independently of our reading.
TEST(CpuKernels, CacheSizesAgreeWithTheKernelsCacheTopology) {
  const bool sysfs = std::filesystem::exists("/sys/devices/system/cpu/cpu0/cache/index0");
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_EQ(cpu_reports_cache_sizes(), sysfs);
#else
  EXPECT_TRUE(cpu_reports_cache_sizes());
#endif
}

TEST(CpuKernels, TheUsersOwnIsaChoiceIsKept) {
  const char* before = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string saved = before ? before : "";
  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  EXPECT_FALSE(limit_onednn_where_cache_sizes_are_unknown());
  EXPECT_STREQ(std::getenv("ONEDNN_MAX_CPU_ISA"), "AVX2");
  if (before)
    setenv("ONEDNN_MAX_CPU_ISA", saved.c_str(), 1);
  else
    unsetenv("ONEDNN_MAX_CPU_ISA");
}

}  // namespace
}  // namespace scenery::models
