#pragma once
// MMSeg's ResNetV1c: a deep stem (three 3x3 convs, stem_channels/2, stem_channels/2,
// stem_channels), max-pool, four stages of BasicBlock (depth 18, 34) or Bottleneck (50, 101,
// 152), stride on the 3x3 conv (style pytorch). Dilated variants come from config alone:
// D8 = strides (1, 2, 1, 1), dilations (1, 1, 2, 4); with contract_dilation the first block of
// a dilated stage uses half the dilation. State-dict keys are MMSeg's (`stem.0.weight`,
// `layer1.0.conv1.weight`, `layer1.0.bn1.running_mean`, `layer1.0.downsample.0.weight`).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <functional>
#include <optional>
#include <vector>

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
  bool norm_eval = false;
  bool with_cp = false;
  int frozen_stages = -1;
  NormConfig norm;
};

// A residual block: conv1/bn1, conv2/bn2[, conv3/bn3], downsample; ReLU after the sum.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(bool bottleneck, int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
               bool downsample, const NormConfig& norm, bool with_cp);
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

class ResNetV1cImpl : public torch::nn::Module {
 public:
  explicit ResNetV1cImpl(const ResNetOptions& options);
  // The outputs of the stages in out_indices.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  // In training: frozen stages (stem included) stay in eval mode, and norm_eval keeps every
  // BatchNorm layer in eval mode, so their running statistics do not move.
  void train(bool on = true) override;
  const ResNetOptions& options() const { return options_; }
  // Channels of each stage's output.
  std::vector<int64_t> stage_channels() const;

 private:
  ResNetOptions options_;
  torch::nn::Sequential stem{nullptr};
  std::vector<torch::nn::Sequential> layers_;
};
TORCH_MODULE(ResNetV1c);

}  // namespace segtrain::models
