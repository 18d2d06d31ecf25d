#include "segtrain/engine/precision.h"

#include <c10/util/StringUtil.h>

#include "segtrain/core/error.h"

namespace segtrain::engine {
namespace {

// MMCV's loss_scale: a number (static), 'dynamic', or GradScaler's keyword arguments.
LossScalerOptions read_loss_scale(const config::ConfigNode& node) {
  LossScalerOptions o;
  if (node.is_map()) {
    node.check_keys({"init_scale", "growth_factor", "backoff_factor", "growth_interval"});
    o.init_scale = node.get<double>("init_scale", o.init_scale);
    o.growth_factor = node.get<double>("growth_factor", o.growth_factor);
    o.backoff_factor = node.get<double>("backoff_factor", o.backoff_factor);
    o.growth_interval = node.get<int64_t>("growth_interval", o.growth_interval);
  } else if (node.yaml().IsScalar() && node.as<std::string>() == "dynamic") {
    // GradScaler's defaults.
  } else {
    if (!node.yaml().IsScalar()) throw node.error("expected a number, 'dynamic' or GradScaler's arguments");
    o.init_scale = node.as<double>();
    o.dynamic = false;
  }
  if (!(o.init_scale > 0) || !(o.growth_factor >= 1) || !(o.backoff_factor > 0 && o.backoff_factor <= 1) ||
      o.growth_interval < 1)
    throw node.error("needs a scale > 0, growth_factor >= 1, 0 < backoff_factor <= 1 and growth_interval >= 1");
  return o;
}

}  // namespace

std::string Precision::name() const {
  if (!autocast) return "fp32";
  if (*autocast == at::kBFloat16) return "bf16 autocast";
  if (!loss_scaler) return "fp16 autocast";
  return loss_scaler->dynamic ? c10::str("fp16 autocast, dynamic loss scale from ", loss_scaler->init_scale)
                              : c10::str("fp16 autocast, loss scale ", loss_scaler->init_scale);
}

Precision read_precision(const config::Config& cfg, c10::Device device) {
  Precision p;
  std::optional<config::ConfigNode> loss_scale;
  std::optional<config::ConfigNode> origin;  // the key that asked for fp16, for errors
  if (cfg.has("optimizer_config") && cfg.at("optimizer_config").has("type")) {
    const auto type = cfg.at("optimizer_config").at("type");
    const auto name = type.as<std::string>();
    if (name != "OptimizerHook" && name != "Fp16OptimizerHook")
      throw type.error("is '" + name + "'; valid types are 'OptimizerHook', 'Fp16OptimizerHook'");
    if (name == "Fp16OptimizerHook") {
      origin = type;
      if (cfg.at("optimizer_config").has("loss_scale")) loss_scale = cfg.at("optimizer_config").at("loss_scale");
    }
  }
  std::optional<config::ConfigNode> fp16_node;
  if (cfg.has("fp16") && !cfg.at("fp16").is_null()) {
    fp16_node = cfg.at("fp16");
    if (!fp16_node->is_map()) throw fp16_node->error("expected a dict ({}, {loss_scale: ...} or {dtype: bfloat16})");
    fp16_node->check_keys({"loss_scale", "dtype"});
    origin = fp16_node;
    if (fp16_node->has("loss_scale")) loss_scale = fp16_node->at("loss_scale");
  }
  if (!origin) return p;

  const std::string dtype = fp16_node ? fp16_node->get<std::string>("dtype", "float16") : "float16";
  if (dtype == "bfloat16") {
    p.autocast = at::kBFloat16;  // float32's range: nothing to scale
    return p;
  }
  if (dtype != "float16") throw fp16_node->at("dtype").error("is '" + dtype + "'; expected float16 or bfloat16");
  LossScalerOptions scaler;
  scaler.init_scale = 512.0;  // MMCV's Fp16OptimizerHook default, static
  scaler.dynamic = false;
  p.loss_scaler = loss_scale ? read_loss_scale(*loss_scale) : scaler;
  if (!device.is_cuda())
    throw origin->error("fp16 (float16 autocast with loss scaling) needs a CUDA device; on the CPU, "
                        "fp16.dtype=bfloat16 trains in mixed precision");
  p.autocast = at::kHalf;
  return p;
}

}  // namespace segtrain::engine
