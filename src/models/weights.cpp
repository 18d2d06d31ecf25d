#include "segtrain/models/weights.h"

#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <map>

#include "segtrain/core/error.h"

namespace segtrain::models {

std::vector<std::pair<std::string, torch::Tensor>> read_state_dict(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw user_error(file.string(), "cannot read the weights file");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw user_error(file.string(), "not a torch.save file (" + std::string(e.what()).substr(0, 200) + ")");
  }
  if (!value.isGenericDict()) throw user_error(file.string(), "expected a dict of tensors");
  auto dict = value.toGenericDict();
  if (dict.contains("state_dict") && dict.at("state_dict").isGenericDict()) dict = dict.at("state_dict").toGenericDict();
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& entry : dict) {
    if (!entry.key().isString() || !entry.value().isTensor()) continue;
    std::string name = entry.key().toStringRef();
    if (name.rfind("module.", 0) == 0) name = name.substr(7);
    out.emplace_back(name, entry.value().toTensor());
  }
  if (out.empty()) throw user_error(file.string(), "no tensors in the state dict");
  return out;
}

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
