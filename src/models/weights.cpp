#include "segtrain/models/weights.h"

#include <map>

namespace segtrain::models {

std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

LoadReport load_weights(torch::nn::Module& model, const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  std::map<std::string, torch::Tensor> own;
  for (auto& [k, v] : state_dict(model)) own[k] = v;
  LoadReport r;
  std::map<std::string, bool> seen;
  torch::NoGradGuard no_grad;
  for (const auto& [name, value] : state) {
    auto it = own.find(name);
    if (it == own.end()) {
      r.unexpected.push_back(name);
      continue;
    }
    seen[name] = true;
    if (it->second.sizes() != value.sizes()) {
      r.mismatched.push_back(name + ": file " + c10::str(value.sizes()) + " vs model " + c10::str(it->second.sizes()));
      continue;
    }
    it->second.copy_(value);
    ++r.loaded;
  }
  for (const auto& [name, _] : own)
    if (!seen.count(name)) r.missing.push_back(name);
  return r;
}

}  // namespace segtrain::models
