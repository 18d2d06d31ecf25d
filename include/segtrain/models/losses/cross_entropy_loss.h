#pragma once
// MMSeg's CrossEntropyLoss (use_sigmoid false): per-pixel cross entropy with ignore_index
// (255), optional class_weight (each pixel's loss times the weight of its class), times
// loss_weight. Reduction as MMSeg: with avg_non_ignore false (MMSeg's default) the mean is over
// ALL pixels, ignored ones counting as zero; with avg_non_ignore true it is over the others.
#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace segtrain::config { class ConfigNode; }

namespace segtrain::models {

struct CrossEntropyLoss {
  std::vector<double> class_weight;  // empty: none
  double loss_weight = 1.0;
  bool avg_non_ignore = false;
  int64_t ignore_index = 255;
  std::string loss_name = "loss_ce";

  static CrossEntropyLoss parse(const config::ConfigNode& node);
  // logits N x C x H x W, labels N x H x W (int64).
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels) const;
};

// MMSeg's accuracy(): percent of non-ignored pixels whose argmax is right.
torch::Tensor pixel_accuracy(const torch::Tensor& logits, const torch::Tensor& labels, int64_t ignore_index = 255);

}  // namespace segtrain::models
