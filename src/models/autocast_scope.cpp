#include "segtrain/models/autocast_scope.h"

#include <ATen/autocast_mode.h>

namespace segtrain::models {

AutocastScope::AutocastScope(std::optional<at::ScalarType> dtype, c10::DeviceType type) : type_(type) {
  if (!dtype) return;
  active_ = true;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  was_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, *dtype);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope frees the low-precision copies of the weights made this pass.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, was_dtype_);
}

std::optional<at::ScalarType> AutocastScope::current(c10::DeviceType type) {
  if (!at::autocast::is_autocast_enabled(type)) return std::nullopt;
  return at::autocast::get_autocast_dtype(type);
}

}  // namespace segtrain::models
