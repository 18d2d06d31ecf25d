#pragma once
// Autocast (torch's mixed precision) on one device type while the scope lives: ops on torch's
// lower-precision list run in `dtype`, losses and reductions in float32. Nothing for nullopt
// (float32). The trainer opens one around the forward pass (engine/precision.h); with_cp's
// recomputation opens the one its forward ran under (activation_checkpoint.h).
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <optional>

namespace segtrain::models {

class AutocastScope {
 public:
  AutocastScope(std::optional<at::ScalarType> dtype, c10::DeviceType type);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

  // The autocast dtype in force on `type` now; nullopt when autocast is off.
  static std::optional<at::ScalarType> current(c10::DeviceType type);

 private:
  bool active_ = false;
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace segtrain::models
