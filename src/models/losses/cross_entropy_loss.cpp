#include "segtrain/models/losses/cross_entropy_loss.h"

#include <torch/nn/functional/loss.h>

#include "segtrain/config/config.h"

namespace segtrain::models {

CrossEntropyLoss CrossEntropyLoss::parse(const config::ConfigNode& node) {
  node.check_keys({"type", "use_sigmoid", "class_weight", "loss_weight", "avg_non_ignore", "loss_name", "reduction"});
  if (node.get<std::string>("type") != "CrossEntropyLoss")
    throw node.at("type").error("unknown loss '" + node.get<std::string>("type") + "'; valid: 'CrossEntropyLoss'");
  if (node.get<bool>("use_sigmoid", false)) throw node.at("use_sigmoid").error("use_sigmoid: true is not supported");
  if (node.get<std::string>("reduction", "mean") != "mean") throw node.at("reduction").error("only 'mean' is supported");
  CrossEntropyLoss l;
  if (node.has("class_weight") && !node.at("class_weight").is_null())
    l.class_weight = node.get<std::vector<double>>("class_weight");
  l.loss_weight = node.get<double>("loss_weight", 1.0);
  l.avg_non_ignore = node.get<bool>("avg_non_ignore", false);
  l.loss_name = node.get<std::string>("loss_name", "loss_ce");
  return l;
}

torch::Tensor CrossEntropyLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels) const {
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().ignore_index(ignore_index).reduction(torch::kNone);
  if (!class_weight.empty())
    options.weight(torch::tensor(class_weight, logits.options().dtype(torch::kFloat)).to(logits.scalar_type()));
  torch::Tensor per_pixel = F::cross_entropy(logits, labels, options);  // ignored pixels are 0
  torch::Tensor loss;
  if (avg_non_ignore) {
    const auto valid = (labels != ignore_index).sum();
    loss = per_pixel.sum() / valid.clamp_min(1).to(per_pixel.scalar_type());
  } else {
    loss = per_pixel.mean();
  }
  return loss * loss_weight;
}

torch::Tensor pixel_accuracy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index) {
  torch::NoGradGuard no_grad;
  torch::Tensor valid = labels != ignore_index;
  torch::Tensor correct = (logits.argmax(1) == labels) & valid;
  return correct.sum().to(torch::kFloat) * 100.0 / valid.sum().clamp_min(1).to(torch::kFloat);
}

}  // namespace segtrain::models
