#pragma once
// The optimizer from `optimizer` (MMCV's keys): SGD (lr, momentum, weight_decay, nesterov) or
// AdamW (lr, betas, eps, weight_decay), with paramwise_cfg.custom_keys: a parameter whose name
// contains a key (the longest matching key wins, as MMCV sorts them) gets lr * lr_mult and
// weight_decay * decay_mult. Each parameter group remembers its base learning rate, which the
// schedule scales every iteration.
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

namespace segtrain::config { class ConfigNode; }

namespace segtrain::engine {

struct Optimizer {
  std::unique_ptr<torch::optim::Optimizer> impl;
  std::vector<double> base_lrs;  // per parameter group
  std::string type;

  // Sets every group's learning rate to lr_of(base lr).
  template <typename F> void set_lr(F lr_of) {
    for (std::size_t g = 0; g < impl->param_groups().size(); ++g) impl->param_groups()[g].options().set_lr(lr_of(base_lrs[g]));
  }
  double lr(std::size_t group = 0) const { return impl->param_groups()[group].options().get_lr(); }
};

Optimizer build_optimizer(const config::ConfigNode& cfg, torch::nn::Module& model);

}  // namespace segtrain::engine
