#include "segtrain/models/backbones/swin_transformer.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/fold.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>

#include <algorithm>
#include <cmath>

#include "segtrain/core/error.h"
#include "segtrain/models/activation_checkpoint.h"

namespace segtrain::models {
namespace {

namespace F = torch::nn::functional;

torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training) {
  return F::dropout(x, F::DropoutFuncOptions().p(p).training(training));
}

// B x H x W x C (H, W multiples of w) -> (B * windows) x w^2 x C, windows in row-major order.
torch::Tensor window_partition(const torch::Tensor& x, int64_t w) {
  const int64_t b = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
  return x.view({b, h / w, w, wd / w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, w * w, c});
}

// The inverse of window_partition.
torch::Tensor window_reverse(const torch::Tensor& windows, int64_t w, int64_t h, int64_t wd) {
  const int64_t c = windows.size(2), b = windows.size(0) / ((h / w) * (wd / w));
  return windows.view({b, h / w, wd / w, w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b, h, wd, c});
}

// MMSeg's PatchMerging takes 2 x 2 neighbourhoods (its stride comes from `strides`).
constexpr int64_t kMergeKernel = 2;

// Pads B x H x W x C right and bottom to multiples of `m`.
torch::Tensor pad_to_multiple(const torch::Tensor& x, int64_t m) {
  const int64_t pad_b = corner_padding(x.size(1), m, m), pad_r = corner_padding(x.size(2), m, m);
  if (pad_b == 0 && pad_r == 0) return x;
  return F::pad(x, F::PadFuncOptions({0, 0, 0, pad_r, 0, pad_b}));
}

}  // namespace

WindowMsaImpl::WindowMsaImpl(int64_t dims, int64_t heads, int64_t window, const SwinTransformerOptions& o)
    : heads_(heads),
      scale_(o.qk_scale.value_or(1.0 / std::sqrt(static_cast<double>(dims / heads)))),
      attn_drop_(o.attn_drop_rate),
      proj_drop_(o.drop_rate) {
  relative_position_bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), heads}));
  // Query (i, j) and key (k, l) of a window read row (i - k + w - 1) * (2w - 1) + (j - l + w - 1).
  const torch::Tensor rows = torch::arange(window).repeat_interleave(window), cols = torch::arange(window).repeat(window);
  const torch::Tensor dr = rows.unsqueeze(1) - rows.unsqueeze(0) + (window - 1);
  const torch::Tensor dc = cols.unsqueeze(1) - cols.unsqueeze(0) + (window - 1);
  relative_position_index = register_buffer("relative_position_index", dr * (2 * window - 1) + dc);
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dims, 3 * dims).bias(o.qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(dims, dims));
}

torch::Tensor WindowMsaImpl::forward(const torch::Tensor& windows, const torch::Tensor& mask) {
  const int64_t b = windows.size(0), n = windows.size(1), c = windows.size(2);
  // 3 x B' x heads x n x head_dims
  const torch::Tensor qkv_heads = qkv->forward(windows).reshape({b, n, 3, heads_, c / heads_}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_heads[0] * scale_, k = qkv_heads[1], v = qkv_heads[2];
  const torch::Tensor bias =
      relative_position_bias_table.index_select(0, relative_position_index.view(-1)).view({n, n, heads_}).permute({2, 0, 1});
  torch::Tensor attn = torch::matmul(q, k.transpose(-2, -1)) + bias.unsqueeze(0);
  if (mask.defined()) {
    const int64_t per_image = mask.size(0);
    attn = (attn.view({b / per_image, per_image, heads_, n, n}) + mask.unsqueeze(1).unsqueeze(0)).view({b, heads_, n, n});
  }
  attn = apply_dropout(attn.softmax(-1), attn_drop_, is_training());
  const torch::Tensor out = torch::matmul(attn, v).transpose(1, 2).reshape({b, n, c});
  return apply_dropout(proj->forward(out), proj_drop_, is_training());
}

ShiftWindowMsaImpl::ShiftWindowMsaImpl(int64_t dims, int64_t heads, int64_t window, int64_t shift,
                                       const SwinTransformerOptions& o, double path_rate)
    : window_(window), shift_(shift), drop_path_(path_rate) {
  w_msa = register_module("w_msa", WindowMsa(dims, heads, window, o));
}

const torch::Tensor& ShiftWindowMsaImpl::shift_mask(int64_t padded_h, int64_t padded_w, const torch::Device& device) {
  const auto key = std::make_tuple(padded_h, padded_w, device.str());
  const auto found = masks_.find(key);
  if (found != masks_.end()) return found->second;
  // After the roll, the last window row and column hold up to three regions of the unrolled map
  // (MMSeg's h_slices / w_slices); tokens attend only within their own region.
  auto regions = [&](int64_t size) {
    torch::Tensor r = torch::zeros({size}, torch::kLong);
    r.slice(0, size - window_, size - shift_).fill_(1);
    r.slice(0, size - shift_, size).fill_(2);
    return r;
  };
  const torch::Tensor labels = (regions(padded_h).unsqueeze(1) * 3 + regions(padded_w).unsqueeze(0)).view({1, padded_h, padded_w, 1});
  const torch::Tensor per_window = window_partition(labels, window_).squeeze(-1);  // windows x w^2
  const torch::Tensor differ = per_window.unsqueeze(1) != per_window.unsqueeze(2);
  torch::Tensor mask = torch::zeros(differ.sizes(), torch::kFloat).masked_fill_(differ, -100.0).to(device);
  return masks_.emplace(key, std::move(mask)).first->second;
}

torch::Tensor ShiftWindowMsaImpl::forward(const torch::Tensor& x, int64_t h, int64_t w) {
  const int64_t b = x.size(0), c = x.size(2);
  torch::Tensor map = pad_to_multiple(x.view({b, h, w, c}), window_);
  const int64_t padded_h = map.size(1), padded_w = map.size(2);
  torch::Tensor mask;
  if (shift_ > 0) {
    map = torch::roll(map, {-shift_, -shift_}, {1, 2});
    mask = shift_mask(padded_h, padded_w, x.device());
    if (mask.scalar_type() != x.scalar_type()) mask = mask.to(x.scalar_type());  // (a model in half precision)
  }
  torch::Tensor out = window_reverse(w_msa->forward(window_partition(map, window_), mask), window_, padded_h, padded_w);
  if (shift_ > 0) out = torch::roll(out, {shift_, shift_}, {1, 2});
  out = out.slice(1, 0, h).slice(2, 0, w).reshape({b, h * w, c});
  return drop_path(out, drop_path_, is_training());
}

SwinBlockImpl::SwinBlockImpl(int64_t dims, int64_t heads, bool shift, const SwinTransformerOptions& o,
                             double path_rate)
    : with_cp_(o.with_cp), drop_path_(path_rate) {
  norm1 = register_module("norm1", layer_norm(dims, o.norm_eps));
  attn = register_module("attn", ShiftWindowMsa(dims, heads, o.window_size, shift ? o.window_size / 2 : 0, o, path_rate));
  norm2 = register_module("norm2", layer_norm(dims, o.norm_eps));
  const auto hidden = static_cast<int64_t>(o.mlp_ratio * static_cast<double>(dims));  // MMSeg's int()
  fc1 = torch::nn::Sequential(torch::nn::Linear(dims, hidden), torch::nn::GELU(), torch::nn::Dropout(o.drop_rate));
  fc2 = torch::nn::Linear(hidden, dims);
  // MMCV's FFN is a module of its own: the keys are ffn.layers.0.0 (fc1) and ffn.layers.1 (fc2);
  // layers.2 is the dropout after fc2.
  auto ffn = std::make_shared<torch::nn::Module>();
  ffn->register_module("layers", torch::nn::ModuleList(fc1, fc2, torch::nn::Dropout(o.drop_rate)));
  register_module("ffn", ffn);
  inner_fn_ = [this, drop = o.drop_rate](const torch::Tensor& x) {
    const torch::Tensor y = x + attn->forward(norm1->forward(x), h_, w_);
    const torch::Tensor mlp = apply_dropout(fc2->forward(fc1->forward(norm2->forward(y))), drop, is_training());
    return y + drop_path(mlp, drop_path_, is_training());
  };
}

torch::Tensor SwinBlockImpl::forward(const torch::Tensor& x, int64_t h, int64_t w) {
  // One map size per block and step: the recomputation in backward reads the same h_, w_.
  h_ = h;
  w_ = w;
  return with_cp_ ? activation_checkpoint(*this, inner_fn_, x) : inner_fn_(x);
}

PatchMergingImpl::PatchMergingImpl(int64_t in, int64_t out, int64_t stride, bool with_norm, double eps)
    : stride_(stride) {
  const int64_t sampled = kMergeKernel * kMergeKernel * in;
  if (with_norm) norm = register_module("norm", layer_norm(sampled, eps));
  reduction = register_module("reduction", torch::nn::Linear(torch::nn::LinearOptions(sampled, out).bias(false)));
}

std::tuple<torch::Tensor, int64_t, int64_t> PatchMergingImpl::forward(const torch::Tensor& x, int64_t h, int64_t w) {
  torch::Tensor map = x.view({x.size(0), h, w, x.size(2)}).permute({0, 3, 1, 2});
  const int64_t pad_h = corner_padding(h, kMergeKernel, stride_), pad_w = corner_padding(w, kMergeKernel, stride_);
  if (pad_h > 0 || pad_w > 0) map = F::pad(map, F::PadFuncOptions({0, pad_w, 0, pad_h}));
  // nn.Unfold's order (each channel's kernel x kernel neighbours together), as MMSeg's weights expect.
  torch::Tensor tokens = F::unfold(map, F::UnfoldFuncOptions(kMergeKernel).stride(stride_)).transpose(1, 2);
  if (norm) tokens = norm->forward(tokens);
  const int64_t out_h = (h + pad_h - kMergeKernel) / stride_ + 1, out_w = (w + pad_w - kMergeKernel) / stride_ + 1;
  return {reduction->forward(tokens), out_h, out_w};
}

SwinTransformerImpl::SwinTransformerImpl(const SwinTransformerOptions& o) : options_(o) {
  patch_embed = register_module("patch_embed", PatchEmbed(o.in_channels, o.embed_dims, o.patch_size, o.strides[0],
                                                          PatchEmbedImpl::Padding::kCorner, o.patch_norm, o.norm_eps));
  if (o.use_abs_pos_embed) {
    const int64_t patches = (o.pretrain_img_size[0] / o.patch_size) * (o.pretrain_img_size[1] / o.patch_size);
    absolute_pos_embed = register_parameter("absolute_pos_embed", torch::zeros({1, patches, o.embed_dims}));
  }
  const auto num_stages = static_cast<int64_t>(o.depths.size());
  const std::vector<double> rates = stochastic_depth_rates(o.depths, o.drop_path_rate);
  stages = register_module("stages", torch::nn::ModuleList());
  int64_t dims = o.embed_dims, block = 0;
  for (int64_t i = 0; i < num_stages; ++i) {
    auto stage = std::make_shared<torch::nn::Module>();
    torch::nn::ModuleList blocks;
    blocks_.emplace_back();
    for (int64_t j = 0; j < o.depths[i]; ++j, ++block) {
      blocks_.back().emplace_back(dims, o.num_heads[i], /*shift=*/j % 2 == 1, o, rates[block]);
      blocks->push_back(blocks_.back().back());
    }
    stage->register_module("blocks", blocks);
    downsamples_.emplace_back(nullptr);
    if (i + 1 < num_stages) {
      downsamples_.back() = PatchMerging(dims, 2 * dims, o.strides[i + 1], o.patch_norm, o.norm_eps);
      stage->register_module("downsample", downsamples_.back());
    }
    stages->push_back(stage);
    if (i + 1 < num_stages) dims *= 2;
  }
  for (int64_t i = 0; i < num_stages; ++i) {
    out_norms_.emplace_back(nullptr);
    if (std::find(o.out_indices.begin(), o.out_indices.end(), i) != o.out_indices.end())
      out_norms_.back() = register_module("norm" + std::to_string(i), layer_norm(o.embed_dims << i, o.norm_eps));
  }
  // MMSeg's SwinTransformer.init_weights without a checkpoint (the bias table stays 0, the
  // patch embedding's conv keeps torch's initialization); absolute_pos_embed N(0, 0.02).
  init_transformer_weights(*this, /*init_convs=*/false);
  if (absolute_pos_embed.defined()) {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(absolute_pos_embed, 0, 0.02);
  }
  for (auto* m : frozen_modules())
    for (auto& p : m->parameters()) p.set_requires_grad(false);
  if (o.frozen_stages >= 0 && absolute_pos_embed.defined()) absolute_pos_embed.set_requires_grad(false);
}

std::vector<torch::nn::Module*> SwinTransformerImpl::frozen_modules() {
  std::vector<torch::nn::Module*> out;
  if (options_.frozen_stages < 0) return out;
  out.push_back(patch_embed.get());
  for (int64_t i = 1; i <= options_.frozen_stages && i <= static_cast<int64_t>(blocks_.size()); ++i) {
    out.push_back(stages->ptr(i - 1).get());
    if (out_norms_[i - 1]) out.push_back(out_norms_[i - 1].get());
  }
  return out;
}

void SwinTransformerImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on)
    for (auto* m : frozen_modules()) m->eval();
}

std::vector<torch::Tensor> SwinTransformerImpl::forward(const torch::Tensor& input) {
  auto [x, h, w] = patch_embed->forward(input);
  if (absolute_pos_embed.defined()) {
    if (x.size(1) != absolute_pos_embed.size(1))
      // (MMSeg adds it as it is: the input must be pretrain_img_size.)
      throw user_error("model.backbone.use_abs_pos_embed",
                       "needs inputs of pretrain_img_size (" + std::to_string(options_.pretrain_img_size[0]) + "x" +
                           std::to_string(options_.pretrain_img_size[1]) + "); got " + std::to_string(input.size(2)) +
                           "x" + std::to_string(input.size(3)));
    x = x + absolute_pos_embed;
  }
  x = apply_dropout(x, options_.drop_rate, is_training());  // MMSeg's drop_after_pos
  std::vector<torch::Tensor> outs;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    for (auto& block : blocks_[i]) x = block->forward(x, h, w);
    if (out_norms_[i]) outs.push_back(tokens_to_map(out_norms_[i]->forward(x), h, w).contiguous());
    if (downsamples_[i]) std::tie(x, h, w) = downsamples_[i]->forward(x, h, w);
  }
  return outs;
}

std::vector<int64_t> SwinTransformerImpl::stage_channels() const {
  std::vector<int64_t> out;
  for (std::size_t i = 0; i < options_.depths.size(); ++i) out.push_back(options_.embed_dims << i);
  return out;
}

}  // namespace segtrain::models
