#pragma once
// MMSeg's ResNet family: ResNet (V1b: torchvision's 7x7 stem, `conv1`/`bn1`), ResNetV1c (a deep
// stem of three 3x3 convs, stem_channels/2, stem_channels/2, stem_channels, as `stem.*`) and
// ResNetV1d (the deep stem, and avg_down: a downsample path that average-pools and then uses a
// stride-1 1x1 conv, `downsample.1`/`downsample.2`). Then max-pool and up to four stages of
// BasicBlock (depth 18, 34) or Bottleneck (50, 101, 152), stride on the 3x3 conv (style
// pytorch). Dilated variants come from config alone: D8 = strides (1, 2, 1, 1), dilations
// (1, 1, 2, 4); with contract_dilation the first block of a dilated stage uses half the
// dilation; multi_grid gives each block of the last stage its own dilation. State-dict keys
// are MMSeg's (`stem.0.weight`, `layer1.0.conv1.weight`, `layer1.0.downsample.0.weight`), so
// torchvision's and MMCV's ImageNet weights load by name.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <functional>
#include <optional>
#include <vector>

#include "segtrain/models/backbones/backbone.h"
#include "segtrain/models/conv_module.h"

namespace segtrain::models {

struct ResNetOptions {
  int depth = 50;
  int in_channels = 3;
  int stem_channels = 64;
  int base_channels = 64;
  int num_stages = 4;
  std::vector<int64_t> strides{1, 2, 2, 2};
  std::vector<int64_t> dilations{1, 1, 1, 1};
  std::vector<int64_t> out_indices{0, 1, 2, 3};
  bool contract_dilation = false;
  bool deep_stem = true;   // ResNetV1c / V1d; false: ResNet (V1b)
  bool avg_down = false;   // ResNetV1d
  std::vector<int64_t> multi_grid;  // empty: none; else one dilation per block of the last stage
  bool norm_eval = false;
  bool with_cp = false;
  int frozen_stages = -1;
  NormConfig norm;
};

// A residual block: conv1/bn1, conv2/bn2[, conv3/bn3], downsample; ReLU after the sum.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(bool bottleneck, int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
               bool downsample, bool avg_down, const NormConfig& norm, bool with_cp);
  torch::Tensor forward(const torch::Tensor& x);
  static constexpr int64_t expansion(bool bottleneck) { return bottleneck ? 4 : 1; }

 private:
  torch::Tensor inner(const torch::Tensor& x);
  bool bottleneck_, with_cp_;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  dist::SyncBatchNorm bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
  std::function<torch::Tensor(const torch::Tensor&)> inner_fn_;  // what with_cp recomputes
};
TORCH_MODULE(ResBlock);

class ResNetImpl : public Backbone {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  // The outputs of the stages in out_indices.
  std::vector<torch::Tensor> forward(const torch::Tensor& x) override;
  // In training: frozen stages (stem included) stay in eval mode, and norm_eval keeps every
  // BatchNorm layer in eval mode, so their running statistics do not move.
  void train(bool on = true) override;
  const ResNetOptions& options() const { return options_; }
  // Channels of each stage's output.
  std::vector<int64_t> stage_channels() const override;

 private:
  ResNetOptions options_;
  torch::Tensor stem_forward(const torch::Tensor& x);
  std::vector<torch::nn::Module*> stage_modules(int stage);  // stage 0: the stem
  torch::nn::Sequential stem{nullptr};  // deep stem
  torch::nn::Conv2d conv1{nullptr};     // V1b stem
  dist::SyncBatchNorm bn1{nullptr};
  std::vector<torch::nn::Sequential> layers_;
};
TORCH_MODULE(ResNet);

}  // namespace segtrain::models
