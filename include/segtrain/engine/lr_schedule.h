#pragma once
// MMCV's iteration-based learning-rate policies (lr_config), as a factor of each group's base
// learning rate at iteration `iter` (0-based, out of max_iters):
//   poly:             (base - min_lr) * (1 - iter / max_iters)^power + min_lr
//   step:             base * gamma^(number of steps <= iter)   (step: N or [N1, N2, ...])
//   CosineAnnealing:  target + (base - target) * (1 + cos(pi * iter / max_iters)) / 2,
//                     target = min_lr or base * min_lr_ratio
//   warmup: linear    for iter < warmup_iters: regular * (1 - (1 - iter / warmup_iters) * (1 - warmup_ratio))
//           constant  regular * warmup_ratio
#include <string>
#include <vector>

namespace segtrain::config { class ConfigNode; }

namespace segtrain::engine {

class LrSchedule {
 public:
  // Reads lr_config (policy, power, min_lr, min_lr_ratio, step, gamma, warmup, warmup_iters,
  // warmup_ratio, by_epoch which must be false).
  static LrSchedule parse(const config::ConfigNode& lr_config, int64_t max_iters);

  // The learning rate at `iter` for a group whose base learning rate is `base_lr`.
  double lr(double base_lr, int64_t iter) const;

  std::string policy = "poly";
  double power = 1.0, min_lr = 0.0, min_lr_ratio = -1.0, gamma = 0.1;
  std::vector<int64_t> steps;
  std::string warmup;  // "", "linear", "constant"
  int64_t warmup_iters = 0;
  double warmup_ratio = 0.1;
  int64_t max_iters = 1;
};

}  // namespace segtrain::engine
