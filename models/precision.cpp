#include "models/precision.h"

#include "core/torch_compat.h"

namespace scenery::models {

AutocastScope::AutocastScope(torch::Device device, bool enabled)
    : type_(device.type()), enabled_(enabled) {
  if (enabled_) compat::set_autocast(type_, true, torch::kBFloat16);
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Back to fp32 defaults: autocast off; the dtype setting only matters when on.
  compat::set_autocast(type_, false, type_ == torch::kCUDA ? torch::kHalf : torch::kBFloat16);
  at::autocast::clear_cache();
}

}  // namespace scenery::models
