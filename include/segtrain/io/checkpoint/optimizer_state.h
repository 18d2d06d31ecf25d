#pragma once
// The checkpoint's 'optimizer' entry: {'type': 'SGD' | 'AdamW', 'state': {param name: s}} with
// s = {'momentum_buffer': t} (SGD) or {'step', 'exp_avg', 'exp_avg_sq'[, 'max_exp_avg_sq']}
// (AdamW). Keyed by parameter name, so the entry survives a change of parameter order.
#include <ATen/core/ivalue.h>
#include <torch/optim/optimizer.h>
#include <torch/ordered_dict.h>

#include <string>
#include <vector>

namespace segtrain::io {

using NamedParameters = torch::OrderedDict<std::string, at::Tensor>;

c10::IValue optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& type,
                            const NamedParameters& params);

// Puts `state` (from optimizer_state) back; tensors move to their parameter's device. A user
// error naming `file` and the key when the entry does not fit the optimizer.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& type, const NamedParameters& params,
                          const c10::IValue& state, const std::string& file);

// torch's own optimizer.state_dict(), as MMCV's checkpoints hold it: {'state': {i: s},
// 'param_groups': [{'params': [i, ...], ...}, ...]}, i counting the model's parameters in
// registration order across the groups.
bool is_torch_optimizer_state(const c10::IValue& state);
// That state in the layout above: `parameter_order` names the saved model's parameters in
// registration order (a saved state_dict's keys that are parameters); the type is read from the
// state's keys (momentum_buffer: SGD, exp_avg: AdamW), else `type`, the config's.
c10::IValue named_optimizer_state(const c10::IValue& state, const std::vector<std::string>& parameter_order,
                                  const std::string& type, const std::string& file);

}  // namespace segtrain::io
