#pragma once
// MMSeg's MixVisionTransformer, SegFormer's backbone (MiT-B0..B5 differ in embed_dims and
// num_layers only). Each of the four stages: an overlapping patch embedding (a conv of kernel
// patch_sizes[i], stride strides[i], padding kernel/2, then LayerNorm) and num_layers[i] encoder
// layers, then a LayerNorm. An encoder layer: x + DropPath(attention(LN(x))), then
// x + DropPath(MixFFN(LN(x))). The attention is efficient multi-head attention: keys and values
// come from the tokens shrunk by sr_ratios[i] (a conv of that kernel and stride, then LayerNorm).
// MixFFN: 1x1 conv, 3x3 depthwise conv, GELU, 1x1 conv. Stochastic depth (DropPath) grows
// linearly from 0 to drop_path_rate over all layers, and acts in training only. with_cp
// recomputes each encoder layer in backward, with the same random draws.
// State-dict keys are MMSeg's (`layers.0.0.projection.weight`, `layers.0.1.0.attn.attn.in_proj_weight`,
// `layers.0.1.0.ffn.layers.1.weight`, `layers.0.2.weight`), so MMSeg's SegFormer checkpoints
// and its converted ImageNet weights (tools/model_converters/mit2mmseg.py) load by name.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <functional>
#include <tuple>
#include <vector>

#include "segtrain/models/backbones/backbone.h"
#include "segtrain/models/backbones/transformer_layers.h"

namespace segtrain::models {

struct MixVisionTransformerOptions {
  int64_t in_channels = 3;
  int64_t embed_dims = 64;  // stage i has embed_dims * num_heads[i] channels
  std::vector<int64_t> num_layers{3, 4, 6, 3};
  std::vector<int64_t> num_heads{1, 2, 4, 8};
  std::vector<int64_t> patch_sizes{7, 3, 3, 3};
  std::vector<int64_t> strides{4, 2, 2, 2};
  std::vector<int64_t> sr_ratios{8, 4, 2, 1};
  std::vector<int64_t> out_indices{0, 1, 2, 3};
  int64_t mlp_ratio = 4;
  bool qkv_bias = true;
  double drop_rate = 0, attn_drop_rate = 0, drop_path_rate = 0;
  double norm_eps = 1e-6;  // MMSeg's default norm_cfg: LN with eps 1e-6
  bool with_cp = false;
};

// Efficient multi-head attention (`attn`: torch's MultiheadAttention; `sr` and `norm` where
// sr_ratio > 1), with the residual: identity + DropPath(dropout(attention)).
class EfficientAttentionImpl : public torch::nn::Module {
 public:
  EfficientAttentionImpl(int64_t dims, int64_t heads, int64_t sr_ratio, const MixVisionTransformerOptions& o,
                         double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t h, int64_t w, const torch::Tensor& identity);
  torch::nn::MultiheadAttention attn{nullptr};
  torch::nn::Conv2d sr{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  double drop_rate_, drop_path_;
};
TORCH_MODULE(EfficientAttention);

// MixFFN (`layers`: fc1, depthwise pe_conv, GELU, dropout, fc2, dropout), with the residual.
class MixFfnImpl : public torch::nn::Module {
 public:
  MixFfnImpl(int64_t dims, int64_t hidden, double drop_rate, double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t h, int64_t w, const torch::Tensor& identity);
  torch::nn::Sequential layers{nullptr};

 private:
  double drop_path_;
};
TORCH_MODULE(MixFfn);

// norm1 -> attn -> norm2 -> ffn, each with its residual.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(int64_t dims, int64_t heads, int64_t sr_ratio, const MixVisionTransformerOptions& o,
                   double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t h, int64_t w);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  EfficientAttention attn{nullptr};
  MixFfn ffn{nullptr};

 private:
  bool with_cp_;
  int64_t h_ = 0, w_ = 0;                                        // the map being recomputed
  std::function<torch::Tensor(const torch::Tensor&)> inner_fn_;  // what with_cp recomputes
};
TORCH_MODULE(EncoderLayer);

class MixVisionTransformerImpl : public Backbone {
 public:
  explicit MixVisionTransformerImpl(const MixVisionTransformerOptions& options);
  std::vector<torch::Tensor> forward(const torch::Tensor& x) override;
  std::vector<int64_t> stage_channels() const override;
  const MixVisionTransformerOptions& options() const { return options_; }

 private:
  MixVisionTransformerOptions options_;
  // layers.i = [patch embedding, encoder layers, LayerNorm], as MMSeg nests them.
  torch::nn::ModuleList layers{nullptr};
  std::vector<PatchEmbed> embeds_;
  std::vector<std::vector<EncoderLayer>> blocks_;
  std::vector<torch::nn::LayerNorm> norms_;
};
TORCH_MODULE(MixVisionTransformer);

}  // namespace segtrain::models
