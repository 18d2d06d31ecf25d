#include "segtrain/models/backbones/transformer_layers.h"

#include <torch/nn/functional/padding.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace segtrain::models {

namespace F = torch::nn::functional;

torch::Tensor tokens_to_map(const torch::Tensor& x, int64_t h, int64_t w) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), h, w});
}

torch::Tensor map_to_tokens(const torch::Tensor& x) { return x.flatten(2).transpose(1, 2).contiguous(); }

torch::Tensor drop_path(const torch::Tensor& x, double p, bool training) {
  if (p == 0 || !training) return x;
  const double keep = 1 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  const torch::Tensor mask = (keep + torch::rand(shape, x.options())).floor_();
  return x.div(keep) * mask;
}

std::vector<double> stochastic_depth_rates(const std::vector<int64_t>& blocks_per_stage, double rate) {
  int64_t total = 0;
  for (const int64_t n : blocks_per_stage) total += n;
  const torch::Tensor rates = torch::linspace(0, rate, std::max<int64_t>(total, 1), torch::kDouble);
  return {rates.data_ptr<double>(), rates.data_ptr<double>() + total};
}

torch::nn::LayerNorm layer_norm(int64_t dims, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dims}).eps(eps));
}

int64_t corner_padding(int64_t size, int64_t kernel, int64_t stride) {
  const int64_t windows = (size + stride - 1) / stride;
  return std::max<int64_t>((windows - 1) * stride + kernel - size, 0);
}

PatchEmbedImpl::PatchEmbedImpl(int64_t in, int64_t dims, int64_t kernel, int64_t stride, Padding padding,
                               bool with_norm, double eps)
    : padding_(padding), stride_(stride) {
  const int64_t pad = padding == Padding::kHalfKernel ? kernel / 2 : 0;
  projection = register_module(
      "projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, dims, kernel).stride(stride).padding(pad)));
  if (with_norm) norm = register_module("norm", layer_norm(dims, eps));
}

std::tuple<torch::Tensor, int64_t, int64_t> PatchEmbedImpl::forward(const torch::Tensor& x) {
  torch::Tensor in = x;
  if (padding_ == Padding::kCorner) {
    const int64_t kernel = projection->options.kernel_size()->at(0);
    const int64_t pad_h = corner_padding(x.size(2), kernel, stride_), pad_w = corner_padding(x.size(3), kernel, stride_);
    if (pad_h > 0 || pad_w > 0) in = F::pad(x, F::PadFuncOptions({0, pad_w, 0, pad_h}));
  }
  const torch::Tensor map = projection->forward(in);
  torch::Tensor tokens = map_to_tokens(map);
  if (norm) tokens = norm->forward(tokens);
  return {tokens, map.size(2), map.size(3)};
}

void init_transformer_weights(torch::nn::Module& root, bool init_convs) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {  // (self: not yet in its shared_ptr)
    if (auto* linear = m->as<torch::nn::LinearImpl>()) {
      torch::nn::init::normal_(linear->weight, 0, 0.02);
      if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
    } else if (auto* norm = m->as<torch::nn::LayerNormImpl>()) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2dImpl>(); conv && init_convs) {
      const auto& k = conv->options.kernel_size();
      const double fan_out = static_cast<double>(k->at(0) * k->at(1) * conv->options.out_channels()) /
                             static_cast<double>(conv->options.groups());
      torch::nn::init::normal_(conv->weight, 0, std::sqrt(2.0 / fan_out));
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    }
  }
}

}  // namespace segtrain::models
