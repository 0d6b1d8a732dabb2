// The few LibTorch API differences between Debian's LibTorch 1.13 (CPU) and a
// CUDA LibTorch 2.x from a PyTorch install, kept in one place so the rest of
// the code is version-free.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>

#define SCENERY_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||          \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace scenery::compat {

// Autocast on/off for a device type. 2.4 replaced the per-backend setters with
// device-type-generic ones.
inline void set_autocast(torch::DeviceType device, bool enabled, torch::ScalarType dtype) {
#if SCENERY_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == torch::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

inline bool cuda_available() {
  return torch::cuda::is_available();
}

inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

// torch::optim keys its per-parameter state by the parameter's TensorImpl: as
// a string of the address in LibTorch 1.x, as the address itself in 2.x.
// Deducing the key type from the map keeps callers free of version checks.
template <class StateMap>
typename StateMap::key_type optimizer_state_key(const StateMap&, const torch::Tensor& parameter) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << parameter.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace scenery::compat
