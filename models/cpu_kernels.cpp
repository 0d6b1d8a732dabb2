#include "models/cpu_kernels.h"

#include <torch/version.h>

#include <cstdlib>

#include "core/log.h"

#if SCENERY_HAVE_ONEDNN
#include <dnnl_version.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace scenery::models {

bool cpu_reports_cache_sizes() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  // Subleaf 0 of the deterministic cache parameters: a cache type of 0 means
  // "no more caches", so 0 in the first subleaf means none described.
  if (__get_cpuid_max(0, nullptr) >= 4) {
    __cpuid_count(4, 0, eax, ebx, ecx, edx);
    if ((eax & 0x1f) != 0) return true;
  }
  if (__get_cpuid_max(0x80000000u, nullptr) >= 0x8000001Du) {
    __cpuid_count(0x8000001Du, 0, eax, ebx, ecx, edx);
    if ((eax & 0x1f) != 0) return true;
  }
  return false;
#else
  return true;
#endif
}

bool uses_onednn3() {
#if SCENERY_HAVE_ONEDNN && DNNL_VERSION_MAJOR >= 3
  return true;
#else
  return TORCH_VERSION_MAJOR >= 2;
#endif
}

bool limit_onednn_where_cache_sizes_are_unknown() {
  if (!uses_onednn3() || std::getenv("ONEDNN_MAX_CPU_ISA") || std::getenv("DNNL_MAX_CPU_ISA"))
    return false;
  if (cpu_reports_cache_sizes()) return false;
  setenv("ONEDNN_MAX_CPU_ISA", "SSE41", 0);
  log::warn(
      "this CPU reports no cache sizes (cpuid cache leaves empty, as in some virtual machines): "
      "oneDNN 3 computes wrong convolutions there, so its kernels are limited to SSE4.1 "
      "(ONEDNN_MAX_CPU_ISA=SSE41; slower on CPU, GPUs unaffected). Set ONEDNN_MAX_CPU_ISA "
      "yourself to choose otherwise");
  return true;
}

}  // namespace scenery::models
