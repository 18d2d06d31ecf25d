#include "segtrain/engine/loss_scaler.h"

#include <ATen/ATen.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>

#include <map>

#include "segtrain/core/error.h"

namespace segtrain::engine {

LossScaler::LossScaler(LossScalerOptions options, c10::Device device) : options_(options) {
  scale_ = at::full({}, options_.init_scale, at::TensorOptions().dtype(at::kFloat).device(device));
  growth_tracker_ = at::zeros({}, at::TensorOptions().dtype(at::kInt).device(device));
}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return loss * scale_.to(loss.scalar_type()); }

at::Tensor LossScaler::unscale(const std::vector<at::Tensor>& grads) const {
  at::Tensor found_inf = at::zeros({}, scale_.options());
  const at::Tensor inv_scale = scale_.reciprocal();
  // One call per dtype: the kernel wants one dtype and device per list.
  std::map<at::ScalarType, std::vector<at::Tensor>> by_dtype;
  for (const auto& g : grads)
    if (g.defined()) by_dtype[g.scalar_type()].push_back(g);
  for (auto& [dtype, list] : by_dtype) at::_amp_foreach_non_finite_check_and_unscale_(list, found_inf, inv_scale);
  return found_inf;
}

void LossScaler::update(const at::Tensor& found_inf) {
  if (!options_.dynamic) return;
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf, options_.growth_factor, options_.backoff_factor,
                         options_.growth_interval);
}

double LossScaler::current_scale() const { return scale_.item<double>(); }

nlohmann::json LossScaler::state_dict() const {
  return {{"scale", current_scale()},
          {"growth_factor", options_.growth_factor},
          {"backoff_factor", options_.backoff_factor},
          {"growth_interval", options_.growth_interval},
          {"_growth_tracker", growth_tracker_.item<int64_t>()}};
}

void LossScaler::load_state_dict(const nlohmann::json& state, const std::string& where) {
  if (!state.is_object() || !state.contains("scale") || !state["scale"].is_number() ||
      !(state["scale"].get<double>() > 0))
    throw user_error(where, "key 'meta.fp16.loss_scaler': expected torch's GradScaler state with a scale > 0");
  // The config decides how the scale moves; the checkpoint, where it stands.
  scale_.fill_(state["scale"].get<double>());
  const auto tracker = state.value("_growth_tracker", nlohmann::json(0));
  growth_tracker_.fill_(tracker.is_number_integer() ? tracker.get<int64_t>() : 0);
}

}  // namespace segtrain::engine
