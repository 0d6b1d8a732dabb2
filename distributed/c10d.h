// The c10d headers and the few calls whose signatures differ between Debian's
// LibTorch 1.13 (CPU, Gloo) and a CUDA LibTorch 2.x (Gloo and NCCL), kept in
// one place like core/torch_compat.h.
//
// 1.13: ProcessGroupGloo / ProcessGroupNCCL are ProcessGroups.
// 2.x:  they are Backends, held by a ProcessGroup per device type, and the
//       Reducer's constructor lost one argument and later gained two.
// The forms are told apart by what the headers declare (detail::), so no
// version number has to be guessed.
// reducer.hpp includes the distributed-autograd context header, which Debian
// does not ship; distributed/shim provides the declaration the Reducer needs (CMake
// adds it to the include path only when the real header is missing).
#pragma once

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
// A pip LibTorch ships ProcessGroupGloo.hpp but not the Gloo headers it
// includes: there only NCCL is built in (dist.backend gloo is refused).
#if __has_include(<gloo/algorithm.h>)
#define SCENERY_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define SCENERY_HAVE_GLOO 0
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/torch_compat.h"

namespace scenery::dist {

// LibTorch >= 2.4 asks for the libuv TCPStore backend by default
// (TCPStoreOptions::useLibUV), and a LibTorch built without libuv (Debian 13's)
// then refuses every store: "use_libuv was requested but PyTorch was build
// without libuv support". Opens the store as asked and, on that refusal only,
// again with the classic backend; 1.x has no such switch.
inline c10::intrusive_ptr<c10d::TCPStore> open_tcp_store(const std::string& host,
                                                         c10d::TCPStoreOptions options);

inline bool gloo_available() {
  return SCENERY_HAVE_GLOO != 0;
}

inline bool nccl_available() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

namespace detail {

template <class T, class = void>
struct has_use_libuv : std::false_type {};
template <class T>
struct has_use_libuv<T, std::void_t<decltype(std::declval<T&>().useLibUV)>> : std::true_type {};

// Switches TCPStore options to the classic backend; false when they have no
// switch (LibTorch < 2.4) or it is already off.
template <class Options>
bool use_classic_backend(Options& options) {
  if constexpr (has_use_libuv<Options>::value) {
    if (!options.useLibUV) return false;
    options.useLibUV = false;
    return true;
  } else {
    (void)options;
    return false;
  }
}

template <class T, class = void>
struct has_set_default_backend : std::false_type {};
template <class T>
struct has_set_default_backend<
    T, std::void_t<decltype(std::declval<T&>().setDefaultBackend(T::BackendType::GLOO))>>
    : std::true_type {};

// 1.x: the backend is the ProcessGroup. 2.x: a ProcessGroup holds it for a
// device type (its constructor took Options until about 2.6). Chosen by what
// the headers declare, not by version numbers.
template <class Group, class Impl>
c10::intrusive_ptr<Group> as_process_group(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                           int size, c10::intrusive_ptr<Impl> impl,
                                           c10::DeviceType device, bool nccl,
                                           std::chrono::milliseconds timeout) {
  if constexpr (std::is_base_of_v<Group, Impl>) {
    return impl;
  } else {
    c10::intrusive_ptr<Group> group;
    if constexpr (std::is_constructible_v<Group, const c10::intrusive_ptr<c10d::Store>&, int,
                                          int>) {
      group = c10::make_intrusive<Group>(store, rank, size);
    } else {
      group = c10::make_intrusive<Group>(
          store, rank, size,
          c10::make_intrusive<typename Group::Options>(nccl ? "nccl" : "gloo", timeout));
    }
    const auto type = nccl ? Group::BackendType::NCCL : Group::BackendType::GLOO;
    if constexpr (has_set_default_backend<Group>::value) group->setDefaultBackend(type);
    group->setBackend(device, type, impl);
    return group;
  }
}

// The Reducer's constructor: with per-bucket size limits (1.12 - early 2.x),
// without them, with two trailing flags (2.4+), or with those and a list of
// bucket caps (2.10+).
template <class R>
std::shared_ptr<R> construct_reducer(std::vector<at::Tensor> params,
                                     std::vector<std::vector<size_t>> buckets,
                                     std::vector<size_t> limits,
                                     c10::intrusive_ptr<c10d::ProcessGroup> group,
                                     std::vector<bool> sparse, int64_t cap, bool find_unused,
                                     bool as_view, std::unordered_map<size_t, std::string> names,
                                     int64_t first_cap) {
  using Names = std::unordered_map<size_t, std::string>;
  using Params = std::vector<at::Tensor>;
  using Buckets = std::vector<std::vector<size_t>>;
  using Group = c10::intrusive_ptr<c10d::ProcessGroup>;
  if constexpr (std::is_constructible_v<R, Params, Buckets, std::vector<size_t>, Group,
                                        std::vector<bool>, int64_t, bool, bool, Names, int64_t>) {
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(limits),
                               std::move(group), std::move(sparse), cap, find_unused, as_view,
                               std::move(names), first_cap);
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, Group, std::vector<bool>,
                                               int64_t, bool, bool, Names, int64_t>) {
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(group),
                               std::move(sparse), cap, find_unused, as_view, std::move(names),
                               first_cap);
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, Group, std::vector<bool>,
                                               int64_t, bool, bool, Names, int64_t, bool, bool>) {
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(group),
                               std::move(sparse), cap, find_unused, as_view, std::move(names),
                               first_cap, /*skip_all_reduce_unused_params=*/false,
                               /*use_python_reducer=*/false);
  } else {
    // 2.10+: a per-bucket cap list; empty keeps first_cap then cap, as above.
    return std::make_shared<R>(std::move(params), std::move(buckets), std::move(group),
                               std::move(sparse), cap, find_unused, as_view, std::move(names),
                               first_cap, /*skip_all_reduce_unused_params=*/false,
                               /*use_python_reducer=*/false,
                               /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
  }
}

}  // namespace detail

#if SCENERY_HAVE_GLOO
inline c10::intrusive_ptr<c10d::ProcessGroup> make_gloo_group(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    std::vector<std::shared_ptr<::gloo::transport::Device>> devices,
    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices = std::move(devices);
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
  return detail::as_process_group<c10d::ProcessGroup>(store, rank, size, gloo, c10::DeviceType::CPU,
                                                      false, timeout);
}
#endif

#ifdef USE_C10D_NCCL
inline c10::intrusive_ptr<c10d::ProcessGroup> make_nccl_group(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
  return detail::as_process_group<c10d::ProcessGroup>(store, rank, size, nccl,
                                                      c10::DeviceType::CUDA, true, timeout);
}
#endif

// c10d::Reducer over `params` (one model replica), PyTorch DDP's defaults
// otherwise (dense gradients, every parameter used), except that gradients are
// views into the all-reduce buckets (DDP's gradient_as_bucket_view): the same
// values, one 44 MB copy less per ResNet-18 step.
inline std::shared_ptr<c10d::Reducer> make_reducer(
    const std::vector<at::Tensor>& params, const std::vector<std::vector<size_t>>& buckets,
    const std::vector<size_t>& bucket_limits, const c10::intrusive_ptr<c10d::ProcessGroup>& group,
    int64_t bucket_bytes, int64_t first_bucket_bytes, bool find_unused_parameters,
    std::unordered_map<size_t, std::string> names) {
  return detail::construct_reducer<c10d::Reducer>(
      params, buckets, bucket_limits, group, std::vector<bool>(params.size(), false), bucket_bytes,
      find_unused_parameters, /*gradient_as_bucket_view=*/true, std::move(names),
      first_bucket_bytes);
}

inline c10::intrusive_ptr<c10d::TCPStore> open_tcp_store(const std::string& host,
                                                         c10d::TCPStoreOptions options) {
  try {
    return c10::make_intrusive<c10d::TCPStore>(host, options);
  } catch (const c10::Error& e) {
    if (std::string(e.what()).find("libuv") == std::string::npos ||
        !detail::use_classic_backend(options))
      throw;
    return c10::make_intrusive<c10d::TCPStore>(host, options);
  }
}

}  // namespace scenery::dist
