#pragma once
// The checkpoint's 'optimizer' entry: {'type': 'SGD' | 'AdamW', 'state': {param name: s}} with
// s = {'momentum_buffer': t} (SGD) or {'step', 'exp_avg', 'exp_avg_sq'[, 'max_exp_avg_sq']}
// (AdamW). Keyed by parameter name, so the entry survives a change of parameter order.
#include <ATen/core/ivalue.h>
#include <torch/optim/optimizer.h>
#include <torch/ordered_dict.h>

#include <string>

namespace segtrain::io {

using NamedParameters = torch::OrderedDict<std::string, at::Tensor>;

c10::IValue optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& type,
                            const NamedParameters& params);

// Puts `state` (from optimizer_state) back; tensors move to their parameter's device. A user
// error naming `file` and the key when the entry does not fit the optimizer.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& type, const NamedParameters& params,
                          const c10::IValue& state, const std::string& file);

}  // namespace segtrain::io
