// The one oneDNN CPU engine of the process, shared by the Winograd convolutions
// and the GEMM weight gradients (an engine per file would duplicate its setup).
// Include only where SCENERY_HAVE_ONEDNN is set.
#pragma once

#include <dnnl.hpp>

namespace scenery::models {

inline dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace scenery::models
