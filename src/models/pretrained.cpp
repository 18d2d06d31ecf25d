#include "segtrain/models/pretrained.h"

#include <cstdlib>
#include <map>
#include <vector>

#include "segtrain/core/error.h"

namespace segtrain::models {
namespace fs = std::filesystem;
namespace {

// MMCV 1.x's open-mmlab:// names for the backbones segtrain builds (mmcv/model_zoo/open_mmlab.json).
const std::map<std::string, std::string> kOpenMmlab = {
    {"resnet18_v1c", "https://download.openmmlab.com/pretrain/third_party/resnet18_v1c-b5776b93.pth"},
    {"resnet50_v1c", "https://download.openmmlab.com/pretrain/third_party/resnet50_v1c-2cccc1ad.pth"},
    {"resnet101_v1c", "https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth"},
};

// torchvision:// names: torchvision's ImageNet weights, older and newer files (which one MMCV
// fetched depends on the torchvision it ran with); the first found is taken.
const std::map<std::string, std::vector<std::string>> kTorchvision = {
    {"resnet18", {"https://download.pytorch.org/models/resnet18-f37072fd.pth",
                  "https://download.pytorch.org/models/resnet18-5c106cde.pth"}},
    {"resnet34", {"https://download.pytorch.org/models/resnet34-b627a593.pth",
                  "https://download.pytorch.org/models/resnet34-333f7ec4.pth"}},
    {"resnet50", {"https://download.pytorch.org/models/resnet50-0676ba61.pth",
                  "https://download.pytorch.org/models/resnet50-19c8e357.pth"}},
    {"resnet101", {"https://download.pytorch.org/models/resnet101-63fe2227.pth",
                   "https://download.pytorch.org/models/resnet101-5d3b4d8f.pth"}},
    {"resnet152", {"https://download.pytorch.org/models/resnet152-394f9c45.pth",
                   "https://download.pytorch.org/models/resnet152-b121ed2d.pth"}},
};

std::string file_name_of(const std::string& url) { return url.substr(url.find_last_of('/') + 1); }

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string known_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::optional<PretrainedSpec> pretrained_of(const config::ConfigNode& model) {
  std::optional<PretrainedSpec> top, backbone;
  if (model.has("pretrained") && !model.at("pretrained").is_null())
    top = PretrainedSpec{model.get<std::string>("pretrained"), model.at("pretrained")};
  if (model.has("backbone")) {
    const auto b = model.at("backbone");
    if (b.has("pretrained") && !b.at("pretrained").is_null())
      backbone = PretrainedSpec{b.get<std::string>("pretrained"), b.at("pretrained")};
    if (b.has("init_cfg") && !b.at("init_cfg").is_null()) {
      const auto init = b.at("init_cfg");
      init.check_keys({"type", "checkpoint", "prefix", "map_location"});
      if (init.get<std::string>("type", "") != "Pretrained")
        throw init.error("only {type: Pretrained, checkpoint: ...} is supported");
      if (backbone) throw init.error("set either backbone.pretrained or backbone.init_cfg, not both");
      backbone = PretrainedSpec{init.get<std::string>("checkpoint"), init.at("checkpoint")};
    }
  }
  if (top && backbone)
    throw top->key.error("both the segmentor and its backbone name pretrained weights; keep one");
  return top ? top : backbone;
}

fs::path torch_hub_checkpoints() {
  if (const char* home = std::getenv("TORCH_HOME"); home && *home) return fs::path(home) / "hub" / "checkpoints";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "torch" / "hub" / "checkpoints";
  const char* user_home = std::getenv("HOME");
  return fs::path(user_home ? user_home : "/") / ".cache" / "torch" / "hub" / "checkpoints";
}

fs::path resolve_pretrained(const PretrainedSpec& spec) {
  const std::string& s = spec.checkpoint;
  std::vector<std::string> urls;
  if (starts_with(s, "open-mmlab://")) {
    const auto it = kOpenMmlab.find(s.substr(13));
    if (it == kOpenMmlab.end()) {
      std::vector<std::string> names;
      for (const auto& [name, url] : kOpenMmlab) names.push_back("open-mmlab://" + name);
      throw spec.key.error("'" + s + "' is not one of the backbones segtrain builds (" + known_names(names) + ")");
    }
    urls = {it->second};
  } else if (starts_with(s, "torchvision://")) {
    const auto it = kTorchvision.find(s.substr(14));
    if (it == kTorchvision.end()) {
      std::vector<std::string> names;
      for (const auto& [name, candidates] : kTorchvision) names.push_back("torchvision://" + name);
      throw spec.key.error("'" + s + "' is not one of the backbones segtrain builds (" + known_names(names) + ")");
    }
    urls = it->second;
  } else if (starts_with(s, "http://") || starts_with(s, "https://")) {
    urls = {s};
  } else {
    if (!fs::is_regular_file(s)) throw spec.key.error("'" + s + "': no such file");
    return s;
  }
  const fs::path cache = torch_hub_checkpoints();
  for (const auto& url : urls)
    if (fs::is_regular_file(cache / file_name_of(url))) return cache / file_name_of(url);
  throw spec.key.error("'" + s + "' is not in torch's hub cache: put " + file_name_of(urls.front()) + " (" +
                       urls.front() + ") in " + cache.string() + " (segtrain downloads nothing)");
}

LoadReport load_pretrained(torch::nn::Module& backbone,
                           const std::vector<std::pair<std::string, torch::Tensor>>& weights, const std::string& file) {
  // A whole segmentor's file (an MMSeg checkpoint): its backbone part.
  bool segmentor = false;
  for (const auto& [name, tensor] : weights) segmentor = segmentor || starts_with(name, "backbone.");
  std::vector<std::pair<std::string, torch::Tensor>> kept;
  std::size_t classifier = 0;
  for (const auto& [name, tensor] : weights) {
    if (segmentor) {
      if (starts_with(name, "backbone.")) kept.emplace_back(name.substr(9), tensor);
    } else if (starts_with(name, "fc.")) {
      ++classifier;  // ImageNet's classifier: no part of a segmentation backbone
    } else {
      kept.emplace_back(name, tensor);
    }
  }
  LoadReport report = load_weights(backbone, kept);
  if (report.loaded == 0)
    throw user_error(file, "none of its tensors fits the backbone by name and shape (e.g. " +
                                        (kept.empty() ? std::string("it has none")
                                                      : report.mismatched.empty() ? kept.front().first
                                                                                  : report.mismatched.front()) +
                                        ")");
  if (classifier > 0) report.unexpected.push_back("fc.* (" + std::to_string(classifier) + " tensors, the classifier)");
  return report;
}

}  // namespace segtrain::models
