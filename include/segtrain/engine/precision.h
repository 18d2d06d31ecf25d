#pragma once
// Mixed precision, configured as in MMSegmentation: its fp16 configs say
//   optimizer_config: {type: Fp16OptimizerHook, loss_scale: 512.}   # or 'dynamic', or GradScaler's kwargs
//   fp16: {}                                                           # or {loss_scale: ...}
// and `fp16: {dtype: bfloat16}` (`--options fp16.dtype=bfloat16`) trains in bfloat16, which needs
// no loss scaling. The forward pass runs under autocast on the run's device (torch's op lists:
// convolutions in the low precision, losses and reductions in float32); weights, gradients and
// the optimizer stay float32 (models/autocast_scope.h).
#include <ATen/core/ATen_fwd.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>

#include "segtrain/config/config.h"
#include "segtrain/engine/loss_scaler.h"

namespace segtrain::engine {

struct Precision {
  std::optional<at::ScalarType> autocast;  // kHalf or kBFloat16; none: float32
  std::optional<LossScalerOptions> loss_scaler;  // float16 only

  std::string name() const;  // "fp32", "fp16 (loss scale 512)", "bf16", ... for the log
};

// A user error naming the key for an unknown form, and for float16 on a CPU (which has no float16
// autocast worth training with: the message says fp16.dtype=bfloat16 works there).
Precision read_precision(const config::Config& cfg, c10::Device device);

}  // namespace segtrain::engine
