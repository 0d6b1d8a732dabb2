// The c10d headers and the few calls whose signatures differ between Debian's
// LibTorch 1.13 (CPU, Gloo) and a CUDA LibTorch 2.x (Gloo and NCCL), kept in
// one place like core/torch_compat.h.
//
// 1.13: ProcessGroupGloo / ProcessGroupNCCL are ProcessGroups.
// 2.x:  they are Backends, held by a ProcessGroup per device type.
// reducer.hpp includes the distributed-autograd context header, which Debian
// does not ship; dist/shim provides the declaration the Reducer needs (CMake
// adds it to the include path only when the real header is missing).
#pragma once

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/torch_compat.h"

namespace scenery::dist {

inline bool nccl_available() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

inline c10::intrusive_ptr<c10d::ProcessGroup> make_gloo_group(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    std::vector<std::shared_ptr<::gloo::transport::Device>> devices,
    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices = std::move(devices);
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
#if SCENERY_TORCH_AT_LEAST(2, 6)
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  group->setBackend(c10::DeviceType::kCPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  return group;
#elif SCENERY_TORCH_AT_LEAST(2, 0)
  auto group = c10::make_intrusive<c10d::ProcessGroup>(
      store, rank, size, c10::make_intrusive<c10d::ProcessGroup::Options>("gloo", timeout));
  group->setBackend(c10::DeviceType::kCPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  return group;
#else
  return gloo;
#endif
}

#ifdef USE_C10D_NCCL
inline c10::intrusive_ptr<c10d::ProcessGroup> make_nccl_group(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#if SCENERY_TORCH_AT_LEAST(2, 6)
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
  group->setBackend(c10::DeviceType::kCUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
  return group;
#elif SCENERY_TORCH_AT_LEAST(2, 0)
  auto group = c10::make_intrusive<c10d::ProcessGroup>(
      store, rank, size, c10::make_intrusive<c10d::ProcessGroup::Options>("nccl", timeout));
  group->setBackend(c10::DeviceType::kCUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
  return group;
#else
  return nccl;
#endif
}
#endif

// c10d::Reducer over `params` (one model replica), PyTorch DDP's defaults
// otherwise: dense gradients, all parameters used, gradients not bucket views.
inline std::shared_ptr<c10d::Reducer> make_reducer(
    const std::vector<at::Tensor>& params, const std::vector<std::vector<size_t>>& buckets,
    const std::vector<size_t>& bucket_limits, const c10::intrusive_ptr<c10d::ProcessGroup>& group,
    int64_t bucket_bytes, int64_t first_bucket_bytes,
    std::unordered_map<size_t, std::string> names) {
  return std::make_shared<c10d::Reducer>(params, buckets, bucket_limits, group,
                                         std::vector<bool>(params.size(), false), bucket_bytes,
                                         /*find_unused_parameters=*/false,
                                         /*gradient_as_bucket_view=*/false, std::move(names),
                                         first_bucket_bytes);
}

}  // namespace scenery::dist
