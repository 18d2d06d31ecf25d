#include "segtrain/io/checkpoint/optimizer_state.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "ivalue_access.h"

namespace segtrain::io {

c10::IValue optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& type,
                            const NamedParameters& params) {
  auto root = make_dict(), per_param = make_dict();
  root.insert("type", type);
  const auto& states = optimizer.state();
  for (const auto& item : params) {
    const auto it = states.find(item.value().unsafeGetTensorImpl());
    if (it == states.end()) continue;
    auto s = make_dict();
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
      if (sgd->momentum_buffer().defined()) s.insert("momentum_buffer", sgd->momentum_buffer().cpu());
    } else if (const auto* adam = dynamic_cast<const torch::optim::AdamWParamState*>(it->second.get())) {
      s.insert("step", adam->step());
      s.insert("exp_avg", adam->exp_avg().cpu());
      s.insert("exp_avg_sq", adam->exp_avg_sq().cpu());
      if (adam->max_exp_avg_sq().defined()) s.insert("max_exp_avg_sq", adam->max_exp_avg_sq().cpu());
    }
    per_param.insert(item.key(), s);
  }
  root.insert("state", per_param);
  return root;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& type, const NamedParameters& params,
                          const c10::IValue& state, const std::string& file) {
  const IValueAccess root(state, file, "optimizer");
  const std::string& saved = root.at("type").string();
  if (saved != type) throw user_error(file, "the checkpoint's optimizer is " + saved + ", the config's " + type);
  const auto per_param = root.at("state");
  for (const auto& item : params) {
    if (!per_param.has(item.key())) continue;
    const auto s = per_param.at(item.key());
    auto tensor = [&](const char* key) {
      const auto entry = s.at(key);
      const at::Tensor t = entry.tensor();
      if (t.sizes() != item.value().sizes())
        throw entry.fail(c10::str("shape ", t.sizes(), " unlike the parameter's ", item.value().sizes()));
      return t.to(item.value().device());
    };
    std::unique_ptr<torch::optim::OptimizerParamState> restored;
    if (type == "SGD") {
      auto sgd = std::make_unique<torch::optim::SGDParamState>();
      if (s.has("momentum_buffer")) sgd->momentum_buffer(tensor("momentum_buffer"));
      restored = std::move(sgd);
    } else {
      auto adam = std::make_unique<torch::optim::AdamWParamState>();
      adam->step(s.at("step").integer());
      adam->exp_avg(tensor("exp_avg"));
      adam->exp_avg_sq(tensor("exp_avg_sq"));
      if (s.has("max_exp_avg_sq")) adam->max_exp_avg_sq(tensor("max_exp_avg_sq"));
      restored = std::move(adam);
    }
    optimizer.state()[item.value().unsafeGetTensorImpl()] = std::move(restored);
  }
}

bool is_torch_optimizer_state(const c10::IValue& state) {
  return state.isGenericDict() && state.toGenericDict().contains("param_groups") &&
         !state.toGenericDict().contains("type");
}

c10::IValue named_optimizer_state(const c10::IValue& state, const std::vector<std::string>& parameter_order,
                                  const std::string& type, const std::string& file) {
  const IValueAccess root(state, file, "optimizer");
  const auto groups = root.at("param_groups");
  if (!groups.value().isList()) throw groups.fail("expected a list");
  const auto saved_state = root.at("state");
  const Dict saved = saved_state.dict();
  auto out = make_dict(), per_param = make_dict();
  std::string saved_type;  // torch's layout does not say; the state's keys do
  std::size_t position = 0;
  for (const auto& group : groups.value().toListRef()) {
    const IValueAccess params = IValueAccess(group, file, "optimizer.param_groups").at("params");
    if (!params.value().isList()) throw params.fail("expected a list");
    for (const auto& id : params.value().toListRef()) {
      if (position >= parameter_order.size())
        throw params.fail("more parameters than the checkpoint's state_dict has (" +
                          std::to_string(parameter_order.size()) + ")");
      const std::string& name = parameter_order[position++];
      if (!id.isInt() || !saved.contains(id)) continue;  // no state yet (a parameter without gradients)
      const Dict entry = IValueAccess(saved.at(id), file, "optimizer.state." + std::to_string(id.toInt())).dict();
      if (entry.contains("momentum_buffer")) saved_type = "SGD";
      if (entry.contains("exp_avg")) saved_type = "AdamW";
      auto s = make_dict();
      for (const auto& e : entry) {
        // torch >= 1.12 keeps AdamW's step as a 0-d tensor
        const bool step = e.key().isString() && e.key().toStringRef() == "step" && e.value().isTensor();
        s.insert(e.key(), step ? c10::IValue(static_cast<int64_t>(e.value().toTensor().item<double>())) : e.value());
      }
      per_param.insert(name, s);
    }
  }
  if (position != parameter_order.size())
    throw groups.fail("names " + std::to_string(position) + " parameters, the checkpoint's state_dict " +
                      std::to_string(parameter_order.size()));
  out.insert("type", saved_type.empty() ? type : saved_type);
  out.insert("state", per_param);
  return out;
}

}  // namespace segtrain::io
