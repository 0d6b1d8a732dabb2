#include "models/dropout.h"

#include <fmt/core.h>

#include "core/error.h"

namespace scenery::models {

int64_t set_dropout_probability(torch::nn::Module& module, double p) {
  if (!(p >= 0 && p < 1))
    throw ModelError(fmt::format("dropout probability must be in [0, 1), got {}", p));
  int64_t n = 0;
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* d = dynamic_cast<torch::nn::DropoutImpl*>(m.get())) {
      d->options.p(p);
      ++n;
    } else if (auto* d2 = dynamic_cast<torch::nn::Dropout2dImpl*>(m.get())) {
      d2->options.p(p);
      ++n;
    }
  }
  return n;
}

}  // namespace scenery::models
