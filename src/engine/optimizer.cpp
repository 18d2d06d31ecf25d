#include "segtrain/engine/optimizer.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <map>

#include "segtrain/config/config.h"
#include "segtrain/core/suggest.h"

namespace segtrain::engine {
namespace {

struct Multipliers {
  double lr = 1, decay = 1;
};

}  // namespace

Optimizer build_optimizer(const config::ConfigNode& cfg, torch::nn::Module& model) {
  Optimizer out;
  out.type = cfg.get<std::string>("type", "SGD");
  const std::vector<std::string> types = {"SGD", "AdamW"};
  if (std::find(types.begin(), types.end(), out.type) == types.end())
    throw cfg.at("type").error("unknown optimizer '" + out.type + "'" + did_you_mean(out.type, types) +
                               "; valid types are " + quoted_list(types));
  cfg.check_keys(out.type == "SGD" ? std::vector<std::string>{"type", "lr", "momentum", "weight_decay", "nesterov", "paramwise_cfg"}
                                   : std::vector<std::string>{"type", "lr", "betas", "eps", "weight_decay", "paramwise_cfg", "amsgrad"});
  const double lr = cfg.get<double>("lr"), weight_decay = cfg.get<double>("weight_decay", out.type == "SGD" ? 0.0 : 0.01);

  // custom_keys, longest first (MMCV sorts them so the most specific key wins), then by name.
  std::vector<std::pair<std::string, Multipliers>> custom;
  if (cfg.has("paramwise_cfg")) {
    const auto pw = cfg.at("paramwise_cfg");
    pw.check_keys({"custom_keys"});
    if (pw.has("custom_keys"))
      for (const auto& key : pw.at("custom_keys").keys()) {
        const auto k = pw.at("custom_keys").at(key);
        k.check_keys({"lr_mult", "decay_mult"});
        custom.push_back({key, {k.get<double>("lr_mult", 1.0), k.get<double>("decay_mult", 1.0)}});
      }
    // MMCV: sorted(sorted(keys), key=len, reverse=True): among keys of one length the
    // alphabetically first wins, whatever the config's order.
    std::sort(custom.begin(), custom.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::stable_sort(custom.begin(), custom.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
  // One group per distinct (lr_mult, decay_mult), in first-seen order.
  std::map<std::pair<double, double>, std::size_t> group_of;
  std::vector<std::vector<torch::Tensor>> groups;
  std::vector<Multipliers> mults;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    Multipliers m;
    for (const auto& [key, mult] : custom)
      if (item.key().find(key) != std::string::npos) {
        m = mult;
        break;
      }
    auto [it, fresh] = group_of.emplace(std::make_pair(m.lr, m.decay), groups.size());
    if (fresh) {
      groups.emplace_back();
      mults.push_back(m);
    }
    groups[it->second].push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    out.base_lrs.push_back(lr * mults[g].lr);
    if (out.type == "SGD") {
      auto o = std::make_unique<torch::optim::SGDOptions>(lr * mults[g].lr);
      o->momentum(cfg.get<double>("momentum", 0.0)).weight_decay(weight_decay * mults[g].decay).nesterov(cfg.get<bool>("nesterov", false));
      param_groups.emplace_back(groups[g], std::move(o));
    } else {
      auto o = std::make_unique<torch::optim::AdamWOptions>(lr * mults[g].lr);
      auto betas = cfg.has("betas") ? cfg.get<std::vector<double>>("betas") : std::vector<double>{0.9, 0.999};
      if (betas.size() != 2) throw cfg.at("betas").error("expected two numbers");
      o->betas({betas[0], betas[1]}).eps(cfg.get<double>("eps", 1e-8)).weight_decay(weight_decay * mults[g].decay)
          .amsgrad(cfg.get<bool>("amsgrad", false));
      param_groups.emplace_back(groups[g], std::move(o));
    }
  }
  if (out.type == "SGD") out.impl = std::make_unique<torch::optim::SGD>(param_groups, torch::optim::SGDOptions(lr));
  else out.impl = std::make_unique<torch::optim::AdamW>(param_groups, torch::optim::AdamWOptions(lr));
  return out;
}

}  // namespace segtrain::engine
