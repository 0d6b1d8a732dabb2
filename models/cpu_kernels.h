// oneDNN 3.x (inside LibTorch >= 2.0, and Debian 13's system libdnnl) sizes
// its convolution blocks from the CPU's cache sizes, which it reads from
// cpuid's cache leaves (4 on Intel, 0x8000001D on AMD). Some virtual machines
// leave those leaves empty; oneDNN 3 then computes wrong convolutions or
// divides by zero. Measured on such a VM (AMD EPYC, Debian 13's LibTorch 2.6
// with oneDNN 3.7): a channels-last 1x1 stride-2 convolution 256 -> 512 off by
// 1.07, a 7x7 convolution over 151 channels off by 9 % of its range at the
// AVX level, SIGFPE in primitive creation at AVX2 and above; correct with
// ONEDNN_MAX_CPU_ISA=SSE41. oneDNN 2 (LibTorch 1.13) is correct there.
#pragma once

namespace scenery::models {

// True when cpuid describes at least one cache (or the CPU is not x86).
bool cpu_reports_cache_sizes();

// True when this build's convolutions run on oneDNN >= 3 (LibTorch >= 2.0 or
// the system oneDNN linked for Winograd/GEMM).
bool uses_onednn3();

// Where oneDNN 3 meets a CPU without cache sizes and the user has not chosen
// ONEDNN_MAX_CPU_ISA: sets ONEDNN_MAX_CPU_ISA=SSE41 for this process (read by
// oneDNN at its first convolution, so call this first thing in main) and
// warns once. Returns whether it did.
bool limit_onednn_where_cache_sizes_are_unknown();

}  // namespace scenery::models
