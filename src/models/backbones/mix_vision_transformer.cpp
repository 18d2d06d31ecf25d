#include "segtrain/models/backbones/mix_vision_transformer.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>

#include "segtrain/models/activation_checkpoint.h"

namespace segtrain::models {
namespace {

namespace F = torch::nn::functional;

// Tokens N x HW x C <-> maps N x C x H x W (MMSeg's nlc_to_nchw / nchw_to_nlc).
torch::Tensor to_map(const torch::Tensor& x, int64_t h, int64_t w) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), h, w});
}
torch::Tensor to_tokens(const torch::Tensor& x) { return x.flatten(2).transpose(1, 2).contiguous(); }

// Stochastic depth (MMCV's DropPath): in training, each sample's residual branch is dropped with
// probability p and the kept ones scaled by 1 / (1 - p).
torch::Tensor drop_path(const torch::Tensor& x, double p, bool training) {
  if (p == 0 || !training) return x;
  const double keep = 1 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  const torch::Tensor mask = (keep + torch::rand(shape, x.options())).floor_();
  return x.div(keep) * mask;
}

torch::nn::LayerNorm layer_norm(int64_t dims, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dims}).eps(eps));
}

// MMSeg's MixVisionTransformer.init_weights without a checkpoint: linear layers N(0, 0.02),
// LayerNorm 1 and 0, convolutions N(0, sqrt(2 / fan_out)), biases 0. (The attention's packed
// input projection keeps torch's own initialization, as in MMSeg.)
void init_weights(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules(/*include_self=*/false)) {  // (self: not yet in its shared_ptr)
    if (auto* linear = m->as<torch::nn::LinearImpl>()) {
      torch::nn::init::normal_(linear->weight, 0, 0.02);
      if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
    } else if (auto* norm = m->as<torch::nn::LayerNormImpl>()) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
      const auto& k = conv->options.kernel_size();
      const double fan_out = static_cast<double>(k->at(0) * k->at(1) * conv->options.out_channels()) /
                             static_cast<double>(conv->options.groups());
      torch::nn::init::normal_(conv->weight, 0, std::sqrt(2.0 / fan_out));
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    }
  }
}

}  // namespace

PatchEmbedImpl::PatchEmbedImpl(int64_t in, int64_t dims, int64_t kernel, int64_t stride, double eps) {
  projection = register_module(
      "projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, dims, kernel).stride(stride).padding(kernel / 2)));
  norm = register_module("norm", layer_norm(dims, eps));
}

std::tuple<torch::Tensor, int64_t, int64_t> PatchEmbedImpl::forward(const torch::Tensor& x) {
  const torch::Tensor map = projection->forward(x);
  return {norm->forward(to_tokens(map)), map.size(2), map.size(3)};
}

EfficientAttentionImpl::EfficientAttentionImpl(int64_t dims, int64_t heads, int64_t sr_ratio,
                                               const MixVisionTransformerOptions& o, double drop_path)
    : drop_rate_(o.drop_rate), drop_path_(drop_path) {
  attn = register_module("attn", torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(dims, heads)
                                                                   .dropout(o.attn_drop_rate)
                                                                   .bias(o.qkv_bias)));
  if (sr_ratio > 1) {
    sr = register_module("sr", torch::nn::Conv2d(torch::nn::Conv2dOptions(dims, dims, sr_ratio).stride(sr_ratio)));
    norm = register_module("norm", layer_norm(dims, o.norm_eps));
  }
}

torch::Tensor EfficientAttentionImpl::forward(const torch::Tensor& x, int64_t h, int64_t w,
                                              const torch::Tensor& identity) {
  // Keys and values from the tokens shrunk sr_ratio times in each direction.
  const torch::Tensor kv = sr ? norm->forward(to_tokens(sr->forward(to_map(x, h, w)))) : x;
  // torch's attention takes sequence-first tensors.
  const torch::Tensor q_first = x.transpose(0, 1), kv_first = kv.transpose(0, 1);
  torch::Tensor out = std::get<0>(attn->forward(q_first, kv_first, kv_first, {}, /*need_weights=*/false));
  out = F::dropout(out.transpose(0, 1), F::DropoutFuncOptions().p(drop_rate_).training(is_training()));
  return identity + drop_path(out, drop_path_, is_training());
}

MixFfnImpl::MixFfnImpl(int64_t dims, int64_t hidden, double drop_rate, double drop_path) : drop_path_(drop_path) {
  torch::nn::Dropout drop(drop_rate);
  layers = register_module(
      "layers", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(dims, hidden, 1)),
                                      // pe_conv: positions from a depthwise 3x3
                                      torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, hidden, 3).padding(1).groups(hidden)),
                                      torch::nn::GELU(), drop, torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, dims, 1)),
                                      drop));
}

torch::Tensor MixFfnImpl::forward(const torch::Tensor& x, int64_t h, int64_t w, const torch::Tensor& identity) {
  return identity + drop_path(to_tokens(layers->forward(to_map(x, h, w))), drop_path_, is_training());
}

EncoderLayerImpl::EncoderLayerImpl(int64_t dims, int64_t heads, int64_t sr_ratio, const MixVisionTransformerOptions& o,
                                   double drop_path)
    : with_cp_(o.with_cp) {
  norm1 = register_module("norm1", layer_norm(dims, o.norm_eps));
  attn = register_module("attn", EfficientAttention(dims, heads, sr_ratio, o, drop_path));
  norm2 = register_module("norm2", layer_norm(dims, o.norm_eps));
  ffn = register_module("ffn", MixFfn(dims, dims * o.mlp_ratio, o.drop_rate, drop_path));
  inner_fn_ = [this](const torch::Tensor& x) {
    const torch::Tensor y = attn->forward(norm1->forward(x), h_, w_, x);
    return ffn->forward(norm2->forward(y), h_, w_, y);
  };
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, int64_t h, int64_t w) {
  // One map size per layer and step: the recomputation in backward reads the same h_, w_.
  h_ = h;
  w_ = w;
  return with_cp_ ? activation_checkpoint(*this, inner_fn_, x) : inner_fn_(x);
}

MixVisionTransformerImpl::MixVisionTransformerImpl(const MixVisionTransformerOptions& o) : options_(o) {
  const auto stages = static_cast<int64_t>(o.num_layers.size());
  int64_t total = 0;
  for (const int64_t n : o.num_layers) total += n;
  // Stochastic depth rising linearly over all layers (torch.linspace(0, rate, total)).
  const torch::Tensor rates = torch::linspace(0, o.drop_path_rate, std::max<int64_t>(total, 1), torch::kDouble);
  layers = register_module("layers", torch::nn::ModuleList());
  int64_t in = o.in_channels, layer = 0;
  for (int64_t i = 0; i < stages; ++i) {
    const int64_t dims = o.embed_dims * o.num_heads[i];
    embeds_.emplace_back(in, dims, o.patch_sizes[i], o.strides[i], o.norm_eps);
    torch::nn::ModuleList blocks;
    blocks_.emplace_back();
    for (int64_t j = 0; j < o.num_layers[i]; ++j, ++layer) {
      blocks_.back().emplace_back(dims, o.num_heads[i], o.sr_ratios[i], o, rates[layer].item<double>());
      blocks->push_back(blocks_.back().back());
    }
    norms_.push_back(layer_norm(dims, o.norm_eps));
    layers->push_back(torch::nn::ModuleList(embeds_.back(), blocks, norms_.back()));
    in = dims;
  }
  init_weights(*this);
}

std::vector<torch::Tensor> MixVisionTransformerImpl::forward(const torch::Tensor& input) {
  std::vector<torch::Tensor> outs;
  torch::Tensor x = input;
  for (std::size_t i = 0; i < embeds_.size(); ++i) {
    auto [tokens, h, w] = embeds_[i]->forward(x);
    for (auto& block : blocks_[i]) tokens = block->forward(tokens, h, w);
    x = to_map(norms_[i]->forward(tokens), h, w);
    if (std::find(options_.out_indices.begin(), options_.out_indices.end(), static_cast<int64_t>(i)) !=
        options_.out_indices.end())
      outs.push_back(x);
  }
  return outs;
}

std::vector<int64_t> MixVisionTransformerImpl::stage_channels() const {
  std::vector<int64_t> out;
  for (const int64_t heads : options_.num_heads) out.push_back(options_.embed_dims * heads);
  return out;
}

}  // namespace segtrain::models
