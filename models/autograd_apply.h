// Function::apply of a custom autograd function (models/winograd_conv.cpp,
// models/semantic_map.cpp). GCC 14 reports -Warray-bounds inside
// std::vector<bool>::reserve once LibTorch's apply is inlined into a caller: a
// false positive in library code, not in ours. The wrapper keeps that one
// warning off for apply only.
#pragma once

#include <utility>

namespace scenery::models {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
template <class Function, class... Args>
auto autograd_apply(Args&&... args) {
  return Function::apply(std::forward<Args>(args)...);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace scenery::models
