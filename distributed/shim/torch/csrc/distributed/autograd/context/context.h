// Stand-in for LibTorch's distributed-autograd context header, which Debian's
// libtorch-dev does not ship but c10d/reducer.hpp includes. The Reducer's
// header only names these two types (a callback type it static_asserts
// against, and a shared_ptr it holds); the real class lives in libtorch_cpu.
// distributed/CMakeLists.txt puts this folder on the include path only when the real
// header is missing, so a LibTorch that ships it (pip, 2.x) uses its own.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
