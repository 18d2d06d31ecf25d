#include "segtrain/engine/training_state.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <regex>

#include "segtrain/core/error.h"
#include "segtrain/models/weights.h"

namespace segtrain::engine {
namespace {

using Dict = c10::impl::GenericDict;

Dict make_dict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }

c10::IValue to_ivalue(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_array()) {
    c10::impl::GenericList list(c10::AnyType::get());
    for (const auto& item : j) list.push_back(to_ivalue(item));
    return list;
  }
  if (j.is_object()) {
    Dict dict = make_dict();
    for (const auto& [k, v] : j.items()) dict.insert(k, to_ivalue(v));
    return dict;
  }
  return c10::IValue();
}

c10::IValue at(const Dict& d, const std::string& key, const std::string& where) {
  if (!d.contains(key)) throw user_error(where, "not a segtrain checkpoint for resuming: no '" + key + "'");
  return d.at(key);
}

}  // namespace

std::string serialize_checkpoint(const torch::nn::Module& model, const nlohmann::json& meta,
                                 const Optimizer* optimizer, const TrainingState& state) {
  c10::Dict<std::string, torch::Tensor> weights;
  for (const auto& [name, tensor] : models::state_dict(model)) weights.insert(name, tensor.detach().cpu());
  Dict root = make_dict();
  nlohmann::json m = meta;
  m["iter"] = state.iter;
  root.insert("meta", to_ivalue(m));
  root.insert("state_dict", weights);
  if (optimizer) {
    Dict opt = make_dict(), per_param = make_dict();
    opt.insert("type", optimizer->type);
    const auto& states = optimizer->impl->state();
    for (const auto& item : model.named_parameters()) {
      auto it = states.find(item.value().unsafeGetTensorImpl());
      if (it == states.end()) continue;
      Dict s = make_dict();
      if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
        if (sgd->momentum_buffer().defined()) s.insert("momentum_buffer", sgd->momentum_buffer().cpu());
      } else if (auto* adam = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get())) {
        s.insert("step", adam->step());
        s.insert("exp_avg", adam->exp_avg().cpu());
        s.insert("exp_avg_sq", adam->exp_avg_sq().cpu());
        if (adam->max_exp_avg_sq().defined()) s.insert("max_exp_avg_sq", adam->max_exp_avg_sq().cpu());
      }
      per_param.insert(item.key(), s);
    }
    opt.insert("state", per_param);
    root.insert("optimizer", opt);
  }
  Dict sampler = make_dict();
  sampler.insert("epoch", state.sampler.epoch);
  sampler.insert("offset", state.sampler.offset);
  root.insert("sampler", sampler);
  root.insert("rng", at::detail::getDefaultCPUGenerator().get_state());
  std::vector<char> bytes = torch::pickle_save(root);
  return std::string(bytes.begin(), bytes.end());
}

TrainingState restore_checkpoint(const std::string& bytes, const std::string& where, torch::nn::Module& model,
                                 Optimizer& optimizer) {
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception&) {
    throw user_error(where, "cannot read the checkpoint (damaged or not a torch.save file)");
  }
  if (!value.isGenericDict()) throw user_error(where, "not a checkpoint (expected a dict)");
  const Dict root = value.toGenericDict();
  // Weights: every key must match, or the run would not continue the same model.
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& e : at(root, "state_dict", where).toGenericDict()) weights.emplace_back(e.key().toStringRef(), e.value().toTensor());
  auto report = models::load_weights(model, weights);
  if (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())
    throw user_error(where, "the checkpoint does not match the model (" +
                                (report.missing.empty() ? report.unexpected.empty() ? report.mismatched.front()
                                                                                    : "unexpected " + report.unexpected.front()
                                                        : "missing " + report.missing.front()) +
                                "); use --load-from to load weights by name");
  const Dict opt = at(root, "optimizer", where).toGenericDict();
  if (opt.at("type").toStringRef() != optimizer.type)
    throw user_error(where, "the checkpoint's optimizer is " + opt.at("type").toStringRef() + ", the config's " + optimizer.type);
  const Dict per_param = opt.at("state").toGenericDict();
  for (const auto& item : model.named_parameters()) {
    if (!per_param.contains(item.key())) continue;
    const Dict s = per_param.at(item.key()).toGenericDict();
    const auto device = item.value().device();
    std::unique_ptr<torch::optim::OptimizerParamState> state;
    if (optimizer.type == "SGD") {
      auto sgd = std::make_unique<torch::optim::SGDParamState>();
      if (s.contains("momentum_buffer")) sgd->momentum_buffer(s.at("momentum_buffer").toTensor().to(device));
      state = std::move(sgd);
    } else {
      auto adam = std::make_unique<torch::optim::AdamWParamState>();
      adam->step(s.at("step").toInt());
      adam->exp_avg(s.at("exp_avg").toTensor().to(device));
      adam->exp_avg_sq(s.at("exp_avg_sq").toTensor().to(device));
      if (s.contains("max_exp_avg_sq")) adam->max_exp_avg_sq(s.at("max_exp_avg_sq").toTensor().to(device));
      state = std::move(adam);
    }
    optimizer.impl->state()[item.value().unsafeGetTensorImpl()] = std::move(state);
  }
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global one
  generator.set_state(at(root, "rng", where).toTensor());
  TrainingState t;
  const Dict meta = at(root, "meta", where).toGenericDict();
  t.iter = meta.at("iter").toInt();
  if (meta.contains("seed") && meta.at("seed").isInt()) t.seed = static_cast<uint64_t>(meta.at("seed").toInt());
  if (meta.contains("hook_msgs") && meta.at("hook_msgs").isGenericDict()) {
    const Dict msgs = meta.at("hook_msgs").toGenericDict();
    if (msgs.contains("best_score") && msgs.at("best_score").isDouble()) t.hook_msgs["best_score"] = msgs.at("best_score").toDouble();
    if (msgs.contains("best_ckpt") && msgs.at("best_ckpt").isString()) t.hook_msgs["best_ckpt"] = msgs.at("best_ckpt").toStringRef();
  }
  const Dict sampler = at(root, "sampler", where).toGenericDict();
  t.sampler = {sampler.at("epoch").toInt(), sampler.at("offset").toInt()};
  return t;
}

std::optional<std::filesystem::path> find_resume_checkpoint(const std::filesystem::path& work_dir,
                                                            const std::function<void(const std::string&)>& warn) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (fs::exists(work_dir / "latest.pth")) candidates.push_back(work_dir / "latest.pth");
  std::vector<std::pair<int64_t, fs::path>> iters;
  static const std::regex pattern(R"(iter_(\d+)\.pth)");
  if (fs::is_directory(work_dir))
    for (const auto& e : fs::directory_iterator(work_dir)) {
      std::smatch m;
      const std::string name = e.path().filename().string();
      if (std::regex_match(name, m, pattern)) iters.emplace_back(std::stoll(m[1]), e.path());
    }
  std::sort(iters.rbegin(), iters.rend());
  for (auto& [n, p] : iters) candidates.push_back(p);
  for (const auto& c : candidates) {
    std::ifstream in(c, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      auto v = torch::pickle_load(bytes);
      if (v.isGenericDict() && v.toGenericDict().contains("sampler")) return c;
    } catch (const std::exception&) {
    }
    warn("auto-resume: " + c.string() + " is damaged or incomplete; trying an older checkpoint");
  }
  return std::nullopt;
}

}  // namespace segtrain::engine
