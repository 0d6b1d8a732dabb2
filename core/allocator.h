// Process-wide heap policy for the training and evaluation tools.
#pragma once

namespace scenery {

// Keeps memory that tensors free inside the process for the next step
// instead of handing it back to the kernel.
//
// Why: glibc serves every block over its mmap threshold (at most 32 MB) with
// a fresh mmap and unmaps it on free. A training step allocates and frees
// the same large activations every iteration (ResNet-50 at 224 px, batch 16:
// tens of blocks of 12-51 MB), so each step page-faults and zeroes them anew:
// 14 % of a CPU step's time was in the kernel's page-fault path. Retained,
// they are reused warm. Measured on 2 cores: ResNet-50 224 px from 4.9-5.0
// to 6.1-6.2 img/s (benchmarks/bench_train_step.cpp, StepOnly/1).
//
// The cost is that the process keeps its peak heap until it exits, which is
// what a training run needs anyway. Call it first thing in main(); a no-op
// outside glibc. SCENERY_KEEP_MALLOC_DEFAULTS=1 in the environment skips it.
void retain_freed_memory();

}  // namespace scenery
