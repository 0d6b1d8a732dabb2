// Function::apply of a custom autograd function (every one in models/). GCC 14 reports
// -Warray-bounds and -Wstringop-overflow inside std::vector<bool>::reserve once LibTorch's apply is
// inlined into a caller: false positives in library code, not in ours. The wrapper keeps those two
// warnings off for apply only.
#pragma once

#include <utility>

namespace scenery::models {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
template <class Function, class... Args>
auto autograd_apply(Args&&... args) {
  return Function::apply(std::forward<Args>(args)...);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace scenery::models
