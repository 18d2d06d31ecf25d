#pragma once
// Pieces the transformer backbones share (MixVisionTransformer, SwinTransformer): tokens <-> maps,
// MMCV's DropPath, LayerNorm, MMSeg's PatchEmbed, and MMSeg's weight initialization of both.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <tuple>
#include <vector>

namespace segtrain::models {

// Tokens N x HW x C <-> maps N x C x H x W (MMSeg's nlc_to_nchw / nchw_to_nlc).
torch::Tensor tokens_to_map(const torch::Tensor& x, int64_t h, int64_t w);
torch::Tensor map_to_tokens(const torch::Tensor& x);

// Stochastic depth (MMCV's DropPath): in training, each sample's residual branch is dropped with
// probability p and the kept ones scaled by 1 / (1 - p).
torch::Tensor drop_path(const torch::Tensor& x, double p, bool training);

// Each block's DropPath rate: rising linearly from 0 to `rate` over all blocks of all stages
// (MMSeg's torch.linspace(0, drop_path_rate, sum(depths))).
std::vector<double> stochastic_depth_rates(const std::vector<int64_t>& blocks_per_stage, double rate);

torch::nn::LayerNorm layer_norm(int64_t dims, double eps);

// MMSeg's padding='corner': how much to pad one side (right or bottom) of `size` so that windows
// of `kernel` every `stride` cover every pixel (Swin's patch embedding, windows, patch merging).
int64_t corner_padding(int64_t size, int64_t kernel, int64_t stride);

// MMSeg's PatchEmbed: `projection` (a conv) then `norm` (LayerNorm, optional); tokens N x HW x C.
// MiT pads kernel / 2 on every side (overlapping patches); Swin pads the right and bottom edges
// up to a multiple of the stride (MMSeg's padding='corner'), so no pixel is left out.
class PatchEmbedImpl : public torch::nn::Module {
 public:
  enum class Padding { kHalfKernel, kCorner };
  PatchEmbedImpl(int64_t in, int64_t dims, int64_t kernel, int64_t stride, Padding padding, bool with_norm,
                 double eps);
  // Tokens, and the feature map's height and width.
  std::tuple<torch::Tensor, int64_t, int64_t> forward(const torch::Tensor& x);
  torch::nn::Conv2d projection{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  Padding padding_;
  int64_t stride_;
};
TORCH_MODULE(PatchEmbed);

// MMSeg's init_weights of both backbones without a checkpoint: linear layers N(0, 0.02) (MMCV's
// trunc_normal_ cuts at +-2, a hundred standard deviations: the same draw), LayerNorm 1 and 0,
// biases 0. Convolutions: N(0, sqrt(2 / fan_out)) where `init_convs` (MiT), else torch's own (Swin).
void init_transformer_weights(torch::nn::Module& root, bool init_convs);

}  // namespace segtrain::models
