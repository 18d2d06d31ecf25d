#include "segtrain/models/heads/decode_head.h"

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"

namespace segtrain::models {

HeadOptions HeadOptions::parse(const config::ConfigNode& node, const std::vector<std::string>& extra,
                               std::shared_ptr<dist::Communicator> comm, const char* fixed_input_transform) {
  std::vector<std::string> keys = {"type", "in_channels", "channels", "num_classes", "in_index", "dropout_ratio",
                                   "norm_cfg", "act_cfg", "conv_cfg", "align_corners", "loss_decode",
                                   "ignore_index", "sampler", "init_cfg"};
  if (!fixed_input_transform) keys.push_back("input_transform");
  keys.insert(keys.end(), extra.begin(), extra.end());
  node.check_keys(keys);
  HeadOptions o;
  o.input_transform = fixed_input_transform ? fixed_input_transform : node.get<std::string>("input_transform", "");
  if (!o.input_transform.empty() && o.input_transform != "multiple_select" && o.input_transform != "resize_concat")
    throw node.at("input_transform").error("expected 'multiple_select' or 'resize_concat'");
  if (node.at("in_channels").is_list()) {
    o.in_channels = node.get<std::vector<int64_t>>("in_channels");
    o.in_index = node.get<std::vector<int64_t>>("in_index");
  } else {
    o.in_channels = {node.get<int64_t>("in_channels")};
    o.in_index = {node.get<int64_t>("in_index", -1)};
  }
  if (o.in_channels.size() != o.in_index.size())
    throw node.at("in_index").error("needs as many entries as in_channels");
  if (o.in_channels.size() > 1 && o.input_transform.empty())
    throw node.at("in_channels").error("a list of in_channels needs input_transform");
  o.channels = node.get<int64_t>("channels");
  o.num_classes = node.get<int64_t>("num_classes");
  o.dropout_ratio = node.get<double>("dropout_ratio", 0.1);
  o.align_corners = node.get<bool>("align_corners", false);
  o.ignore_index = node.get<int64_t>("ignore_index", 255);
  if (node.has("norm_cfg") && !node.at("norm_cfg").is_null()) o.norm = NormConfig::parse(node.at("norm_cfg"), comm);
  if (node.has("act_cfg") && !node.at("act_cfg").is_null() && node.at("act_cfg").get<std::string>("type") != "ReLU")
    throw node.at("act_cfg").error("only ReLU is supported");
  for (const char* unsupported : {"conv_cfg", "sampler"})
    if (node.has(unsupported) && !node.at(unsupported).is_null()) throw node.at(unsupported).error("only null is supported");
  if (node.has("loss_decode")) {
    const auto loss = node.at("loss_decode");
    if (loss.is_list())
      for (const auto& item : loss.items()) o.losses.push_back(CrossEntropyLoss::parse(item));
    else
      o.losses.push_back(CrossEntropyLoss::parse(loss));
  } else {
    o.losses.push_back(CrossEntropyLoss{});
  }
  for (auto& l : o.losses) l.ignore_index = o.ignore_index;
  return o;
}

DecodeHead::DecodeHead(HeadOptions options) : options_(std::move(options)) {
  if (options_.dropout_ratio > 0) dropout = register_module("dropout", torch::nn::Dropout2d(options_.dropout_ratio));
  conv_seg = register_module("conv_seg", torch::nn::Conv2d(torch::nn::Conv2dOptions(options_.channels, options_.num_classes, 1)));
}

std::vector<torch::Tensor> DecodeHead::select(const std::vector<torch::Tensor>& inputs) const {
  auto pick = [&](int64_t i) {
    const int64_t k = i < 0 ? static_cast<int64_t>(inputs.size()) + i : i;
    TORCH_CHECK(k >= 0 && k < static_cast<int64_t>(inputs.size()), "in_index ", i, " out of range for ",
                inputs.size(), " backbone outputs");
    return inputs[k];
  };
  std::vector<torch::Tensor> out;
  for (int64_t i : options_.in_index) out.push_back(pick(i));
  if (options_.input_transform == "resize_concat") {
    for (auto& t : out) t = resize(t, out.front().sizes().slice(2), options_.align_corners);
    return {torch::cat(out, 1)};
  }
  return out;
}

torch::Tensor DecodeHead::forward(const std::vector<torch::Tensor>& inputs) {
  torch::Tensor feat = features(inputs);
  if (dropout) feat = dropout->forward(feat);
  return conv_seg->forward(feat);
}

std::map<std::string, torch::Tensor> DecodeHead::losses(const torch::Tensor& logits, const torch::Tensor& labels) const {
  torch::Tensor full = resize(logits, labels.sizes().slice(1), options_.align_corners);
  std::map<std::string, torch::Tensor> out;
  for (const auto& loss : options_.losses) {
    torch::Tensor value = loss(full, labels);
    auto [it, fresh] = out.emplace(loss.loss_name, value);
    if (!fresh) it->second = it->second + value;
  }
  out["acc_seg"] = pixel_accuracy(full, labels, options_.ignore_index);
  return out;
}

}  // namespace segtrain::models
