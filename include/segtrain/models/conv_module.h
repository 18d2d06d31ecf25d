#pragma once
// MMCV's ConvModule: conv -> norm -> ReLU, registered as `conv` and `bn` so that state-dict keys
// are MMSeg's (`decode_head.bottleneck.conv.weight`, `...bottleneck.bn.running_mean`).
// The conv has no bias when a norm follows (MMCV's bias='auto').
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <optional>

#include "segtrain/dist/sync_batch_norm.h"

namespace segtrain::config { class ConfigNode; }

namespace segtrain::models {

// norm_cfg: {type: BN | SyncBN, requires_grad: bool, momentum: 0.1, eps: 1e-5} (momentum and
// eps go to the layer, as MMCV's build_norm_layer passes them). SyncBN talks to `comm` (no
// communicator or one rank: plain BatchNorm).
struct NormConfig {
  std::string type = "BN";
  bool requires_grad = true;
  double momentum = 0.1;
  double eps = 1e-5;
  std::shared_ptr<dist::Communicator> comm;

  static NormConfig parse(const config::ConfigNode& node, std::shared_ptr<dist::Communicator> comm);
  dist::SyncBatchNorm make(int64_t channels) const;
};

struct ConvSpec {
  int64_t in, out, kernel = 1, stride = 1, padding = 0, dilation = 1, groups = 1;
};

class ConvModuleImpl : public torch::nn::Module {
 public:
  ConvModuleImpl(const ConvSpec& spec, const std::optional<NormConfig>& norm, bool relu = true);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};
  dist::SyncBatchNorm bn{nullptr};

 private:
  bool relu_;
};
TORCH_MODULE(ConvModule);

// MMCV's DepthwiseSeparableConvModule: a depthwise ConvModule then a 1x1 ConvModule, registered
// as `depthwise_conv` and `pointwise_conv`.
class DepthwiseSeparableConvModuleImpl : public torch::nn::Module {
 public:
  DepthwiseSeparableConvModuleImpl(const ConvSpec& spec, const std::optional<NormConfig>& norm);
  torch::Tensor forward(const torch::Tensor& x);

  ConvModule depthwise_conv{nullptr}, pointwise_conv{nullptr};
};
TORCH_MODULE(DepthwiseSeparableConvModule);

// F.interpolate(x, size, mode='bilinear', align_corners), as MMSeg's resize().
torch::Tensor resize(const torch::Tensor& x, at::IntArrayRef size, bool align_corners);

}  // namespace segtrain::models
