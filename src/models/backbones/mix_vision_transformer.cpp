#include "segtrain/models/backbones/mix_vision_transformer.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/modules/dropout.h>

#include <algorithm>

#include "segtrain/models/activation_checkpoint.h"

namespace segtrain::models {

namespace F = torch::nn::functional;

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
  const torch::Tensor kv = sr ? norm->forward(map_to_tokens(sr->forward(tokens_to_map(x, h, w)))) : x;
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
  return identity + drop_path(map_to_tokens(layers->forward(tokens_to_map(x, h, w))), drop_path_, is_training());
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
  const std::vector<double> rates = stochastic_depth_rates(o.num_layers, o.drop_path_rate);
  layers = register_module("layers", torch::nn::ModuleList());
  int64_t in = o.in_channels, layer = 0;
  for (int64_t i = 0; i < stages; ++i) {
    const int64_t dims = o.embed_dims * o.num_heads[i];
    embeds_.emplace_back(in, dims, o.patch_sizes[i], o.strides[i], PatchEmbedImpl::Padding::kHalfKernel,
                         /*with_norm=*/true, o.norm_eps);
    torch::nn::ModuleList blocks;
    blocks_.emplace_back();
    for (int64_t j = 0; j < o.num_layers[i]; ++j, ++layer) {
      blocks_.back().emplace_back(dims, o.num_heads[i], o.sr_ratios[i], o, rates[layer]);
      blocks->push_back(blocks_.back().back());
    }
    norms_.push_back(layer_norm(dims, o.norm_eps));
    layers->push_back(torch::nn::ModuleList(embeds_.back(), blocks, norms_.back()));
    in = dims;
  }
  // MMSeg's MixVisionTransformer.init_weights without a checkpoint. (The attention's packed input
  // projection keeps torch's own initialization, as in MMSeg.)
  init_transformer_weights(*this, /*init_convs=*/true);
}

std::vector<torch::Tensor> MixVisionTransformerImpl::forward(const torch::Tensor& input) {
  std::vector<torch::Tensor> outs;
  torch::Tensor x = input;
  for (std::size_t i = 0; i < embeds_.size(); ++i) {
    auto [tokens, h, w] = embeds_[i]->forward(x);
    for (auto& block : blocks_[i]) tokens = block->forward(tokens, h, w);
    x = tokens_to_map(norms_[i]->forward(tokens), h, w);
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
