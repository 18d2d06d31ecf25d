#pragma once
// Loss scaling for float16 training, as torch's GradScaler (which MMCV's Fp16OptimizerHook uses):
// the loss is multiplied by `scale` before backward so small float16 gradients do not flush to
// zero; the gradients are divided by it again before the step. A step whose gradients hold an
// Inf or NaN is skipped and the scale shrinks (backoff_factor); after growth_interval good steps
// in a row it grows (growth_factor). A static scale (MMCV's `loss_scale=512.`) skips such steps
// and keeps its value. The scale lives on the device: no host sync of its own.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace segtrain::engine {

struct LossScalerOptions {
  double init_scale = 65536.0;  // torch's GradScaler defaults
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  bool dynamic = true;  // false: the scale stays init_scale
};

class LossScaler {
 public:
  LossScaler(LossScalerOptions options, c10::Device device);

  at::Tensor scale(const at::Tensor& loss) const;
  // Divides the gradients by the scale in place; returns a 0-d float tensor on the device, 1 if
  // any of them held an Inf or NaN (the step must be skipped), else 0.
  at::Tensor unscale(const std::vector<at::Tensor>& grads) const;
  // After the step (taken or skipped): backs off or grows the scale, as found_inf says.
  void update(const at::Tensor& found_inf);

  double current_scale() const;  // a host sync: for logs and checkpoints
  // torch's GradScaler.state_dict(): scale, growth_factor, backoff_factor, growth_interval,
  // _growth_tracker (MMCV keeps it in a checkpoint's meta.fp16.loss_scaler).
  nlohmann::json state_dict() const;
  // `where` names the checkpoint in a user error.
  void load_state_dict(const nlohmann::json& state, const std::string& where);

 private:
  LossScalerOptions options_;
  at::Tensor scale_;           // float32, 0-d (as GradScaler)
  at::Tensor growth_tracker_;  // int32, 0-d: good steps in a row
};

}  // namespace segtrain::engine
