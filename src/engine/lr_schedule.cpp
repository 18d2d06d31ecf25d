#include "segtrain/engine/lr_schedule.h"

#include <cmath>

#include "segtrain/config/config.h"
#include "segtrain/core/suggest.h"

namespace segtrain::engine {

LrSchedule LrSchedule::parse(const config::ConfigNode& c, int64_t max_iters) {
  c.check_keys({"policy", "power", "min_lr", "min_lr_ratio", "by_epoch", "warmup", "warmup_iters", "warmup_ratio",
                "step", "gamma"});
  LrSchedule s;
  s.max_iters = std::max<int64_t>(1, max_iters);
  s.policy = c.get<std::string>("policy", "poly");
  const std::vector<std::string> policies = {"poly", "step", "CosineAnnealing"};
  if (std::find(policies.begin(), policies.end(), s.policy) == policies.end())
    throw c.at("policy").error("unknown policy '" + s.policy + "'" + did_you_mean(s.policy, policies) +
                               "; valid policies are " + quoted_list(policies));
  if (c.get<bool>("by_epoch", false)) throw c.at("by_epoch").error("segtrain schedules by iteration: set by_epoch: false");
  s.power = c.get<double>("power", 1.0);
  s.min_lr = c.get<double>("min_lr", 0.0);
  if (c.has("min_lr_ratio") && !c.at("min_lr_ratio").is_null()) s.min_lr_ratio = c.get<double>("min_lr_ratio");
  s.gamma = c.get<double>("gamma", 0.1);
  if (c.has("step")) s.steps = c.at("step").is_list() ? c.get<std::vector<int64_t>>("step")
                                                      : std::vector<int64_t>{c.get<int64_t>("step")};
  if (s.policy == "step" && s.steps.empty()) throw c.error("policy 'step' needs 'step'");
  if (c.has("warmup") && !c.at("warmup").is_null()) {
    s.warmup = c.get<std::string>("warmup");
    if (s.warmup != "linear" && s.warmup != "constant")
      throw c.at("warmup").error("expected 'linear' or 'constant' (or null)");
    s.warmup_iters = c.get<int64_t>("warmup_iters");
    s.warmup_ratio = c.get<double>("warmup_ratio", 0.1);
  }
  return s;
}

double LrSchedule::lr(double base, int64_t iter) const {
  double regular = base;
  const double progress = static_cast<double>(iter) / max_iters;
  if (policy == "poly") {
    regular = (base - min_lr) * std::pow(1.0 - progress, power) + min_lr;
  } else if (policy == "step") {
    int passed = 0;
    if (steps.size() == 1) passed = static_cast<int>(iter / steps[0]);  // every N iterations
    else for (int64_t s : steps) passed += iter >= s;
    regular = base * std::pow(gamma, passed);
  } else {  // CosineAnnealing
    const double target = min_lr_ratio >= 0 ? base * min_lr_ratio : min_lr;
    regular = target + (base - target) * (1 + std::cos(M_PI * progress)) / 2;
  }
  if (!warmup.empty() && iter < warmup_iters) {
    if (warmup == "constant") return regular * warmup_ratio;
    const double k = (1 - static_cast<double>(iter) / warmup_iters) * (1 - warmup_ratio);
    return regular * (1 - k);
  }
  return regular;
}

}  // namespace segtrain::engine
