#pragma once
// MMSeg's BaseDecodeHead: picks its input(s) from the backbone outputs (in_index,
// input_transform), computes features (the subclass), then dropout and a 1x1 `conv_seg` to
// num_classes logits. Its losses are computed on logits resized to the label size.
// Keys every head takes: in_channels, channels, num_classes, in_index, dropout_ratio, norm_cfg,
// act_cfg (ReLU), align_corners, loss_decode (one or a list), input_transform, ignore_index.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "segtrain/models/conv_module.h"
#include "segtrain/models/losses/cross_entropy_loss.h"

namespace segtrain::models {

struct HeadOptions {
  std::vector<int64_t> in_channels;  // one entry unless input_transform is set
  std::vector<int64_t> in_index;
  std::string input_transform;  // "", "multiple_select" or "resize_concat"
  int64_t channels = 0;
  int64_t num_classes = 0;
  double dropout_ratio = 0.1;
  bool align_corners = false;
  int64_t ignore_index = 255;
  std::optional<NormConfig> norm;
  std::vector<CrossEntropyLoss> losses;

  // Reads the common keys; `extra` lists the subclass's own keys (for the unknown-key check).
  // fixed_input_transform: set by the head itself (MMSeg's UPerHead: multiple_select), so the
  // key is not the config's to give.
  static HeadOptions parse(const config::ConfigNode& node, const std::vector<std::string>& extra,
                           std::shared_ptr<dist::Communicator> comm, const char* fixed_input_transform = nullptr);
  int64_t in_channel() const { return in_channels.front(); }
};

class DecodeHead : public torch::nn::Module {
 public:
  explicit DecodeHead(HeadOptions options);
  // Logits at the resolution of the selected feature map.
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs);
  // {"loss_ce": ..., "acc_seg": ...} against labels N x H x W.
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& logits, const torch::Tensor& labels) const;
  const HeadOptions& options() const { return options_; }

 protected:
  virtual torch::Tensor features(const std::vector<torch::Tensor>& inputs) = 0;
  // The inputs this head reads, after in_index / input_transform.
  std::vector<torch::Tensor> select(const std::vector<torch::Tensor>& inputs) const;
  HeadOptions options_;

 private:
  torch::nn::Dropout2d dropout{nullptr};
  torch::nn::Conv2d conv_seg{nullptr};
};

}  // namespace segtrain::models
