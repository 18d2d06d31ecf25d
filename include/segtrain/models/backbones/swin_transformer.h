#pragma once
// MMSeg's SwinTransformer (Swin-T/S/B differ in embed_dims, depths and num_heads). A patch
// embedding (a patch_size conv, corner padding, LayerNorm), then four stages of Swin blocks; each
// stage but the last ends in patch merging (2x2 neighbours concatenated, LayerNorm, a linear
// layer to twice the channels). A block: x + DropPath(window attention(LN(x))), then
// x + DropPath(MLP(LN(x))). Window attention is multi-head self-attention inside window_size x
// window_size windows (the map padded right and bottom to whole windows) plus a learned relative
// position bias; every second block shifts the windows by window_size / 2 (a cyclic roll, with
// a mask that keeps tokens from attending across the roll's seams). Stage i's output (before its
// merging) goes through LayerNorm `norm{i}`. Stochastic depth rises linearly from 0 to
// drop_path_rate over all blocks, in training only; with_cp recomputes each block in backward
// with the same random draws.
// State-dict keys are MMSeg 0.x's (`patch_embed.projection.weight`,
// `stages.0.blocks.1.attn.w_msa.relative_position_bias_table`, `stages.0.blocks.0.ffn.layers.0.0.weight`,
// `stages.0.downsample.reduction.weight`, `norm0.weight`), so MMSeg's Swin checkpoints and its
// converted ImageNet weights (tools/model_converters/swin2mmseg.py) load by name.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "segtrain/models/backbones/backbone.h"
#include "segtrain/models/backbones/transformer_layers.h"

namespace segtrain::models {

struct SwinTransformerOptions {
  // Sizes absolute_pos_embed: (pretrain_img_size[0] / patch_size) x (pretrain_img_size[1] / patch_size) tokens.
  std::vector<int64_t> pretrain_img_size{224, 224};
  int64_t in_channels = 3;
  int64_t embed_dims = 96;  // stage i has embed_dims * 2^i channels
  int64_t patch_size = 4;
  int64_t window_size = 7;
  double mlp_ratio = 4;
  std::vector<int64_t> depths{2, 2, 6, 2};
  std::vector<int64_t> num_heads{3, 6, 12, 24};
  std::vector<int64_t> strides{4, 2, 2, 2};  // strides[0] is patch_size; the others patch merging's
  std::vector<int64_t> out_indices{0, 1, 2, 3};
  bool qkv_bias = true;
  std::optional<double> qk_scale;  // default head_dims^-0.5
  bool patch_norm = true;
  double drop_rate = 0, attn_drop_rate = 0, drop_path_rate = 0.1;
  bool use_abs_pos_embed = false;
  double norm_eps = 1e-5;  // MMSeg's LN
  int64_t frozen_stages = -1;  // 0: the patch embedding; i > 0: it and stages 0..i-1
  bool with_cp = false;
};

// Window multi-head self-attention with relative position bias (MMSeg's WindowMSA): `qkv`,
// `proj`, `relative_position_bias_table` ((2w-1)^2 x heads) and the buffer
// `relative_position_index` (w^2 x w^2: which table row each query-key offset reads).
class WindowMsaImpl : public torch::nn::Module {
 public:
  WindowMsaImpl(int64_t dims, int64_t heads, int64_t window, const SwinTransformerOptions& o);
  // windows: B' x w^2 x C; mask: windows-per-image x w^2 x w^2 (0 or -100), or undefined.
  torch::Tensor forward(const torch::Tensor& windows, const torch::Tensor& mask);
  torch::Tensor relative_position_bias_table, relative_position_index;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int64_t heads_;
  double scale_, attn_drop_, proj_drop_;
};
TORCH_MODULE(WindowMsa);

// Shifted-window attention (MMSeg's ShiftWindowMSA, `w_msa` inside), with DropPath on its output.
class ShiftWindowMsaImpl : public torch::nn::Module {
 public:
  ShiftWindowMsaImpl(int64_t dims, int64_t heads, int64_t window, int64_t shift, const SwinTransformerOptions& o,
                     double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t h, int64_t w);
  WindowMsa w_msa{nullptr};

 private:
  // The mask of a padded map's shifted windows (built once per map size and device).
  const torch::Tensor& shift_mask(int64_t padded_h, int64_t padded_w, const torch::Device& device);
  int64_t window_, shift_;
  double drop_path_;
  std::map<std::tuple<int64_t, int64_t, std::string>, torch::Tensor> masks_;
};
TORCH_MODULE(ShiftWindowMsa);

// norm1 -> attn -> norm2 -> ffn (MMCV's FFN: `ffn.layers` = [[fc1, GELU, dropout], fc2, dropout]),
// each with its residual.
class SwinBlockImpl : public torch::nn::Module {
 public:
  SwinBlockImpl(int64_t dims, int64_t heads, bool shift, const SwinTransformerOptions& o, double drop_path);
  torch::Tensor forward(const torch::Tensor& x, int64_t h, int64_t w);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  ShiftWindowMsa attn{nullptr};
  torch::nn::Sequential fc1{nullptr};  // linear, GELU, dropout
  torch::nn::Linear fc2{nullptr};

 private:
  bool with_cp_;
  double drop_path_;
  int64_t h_ = 0, w_ = 0;                                        // the map being recomputed
  std::function<torch::Tensor(const torch::Tensor&)> inner_fn_;  // what with_cp recomputes
};
TORCH_MODULE(SwinBlock);

// MMSeg's PatchMerging: 2x2 neighbourhoods every `stride` tokens (the map padded right and bottom
// so that none is left out), concatenated in nn.Unfold's order (channel-major), `norm`, then
// `reduction` (no bias).
class PatchMergingImpl : public torch::nn::Module {
 public:
  PatchMergingImpl(int64_t in, int64_t out, int64_t stride, bool with_norm, double eps);
  // Tokens of the merged map, and its height and width.
  std::tuple<torch::Tensor, int64_t, int64_t> forward(const torch::Tensor& x, int64_t h, int64_t w);
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear reduction{nullptr};

 private:
  int64_t stride_;
};
TORCH_MODULE(PatchMerging);

class SwinTransformerImpl : public Backbone {
 public:
  explicit SwinTransformerImpl(const SwinTransformerOptions& options);
  std::vector<torch::Tensor> forward(const torch::Tensor& x) override;
  std::vector<int64_t> stage_channels() const override;
  // Frozen parts (frozen_stages) stay in eval mode, as MMSeg's _freeze_stages leaves them.
  void train(bool on = true) override;
  const SwinTransformerOptions& options() const { return options_; }

 private:
  std::vector<torch::nn::Module*> frozen_modules();
  SwinTransformerOptions options_;
  PatchEmbed patch_embed{nullptr};
  torch::Tensor absolute_pos_embed;
  // stages.i = {blocks, downsample}, as MMSeg's SwinBlockSequence names them.
  torch::nn::ModuleList stages{nullptr};
  std::vector<std::vector<SwinBlock>> blocks_;
  std::vector<PatchMerging> downsamples_;       // one per stage; null in the last
  std::vector<torch::nn::LayerNorm> out_norms_;  // norm{i}; null where i is not in out_indices
};
TORCH_MODULE(SwinTransformer);

}  // namespace segtrain::models
