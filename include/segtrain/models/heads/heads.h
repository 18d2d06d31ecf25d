#pragma once
// MMSeg's decode heads (same parameters, same state-dict keys):
//  FCNHead (num_convs, kernel_size, concat_input, dilation): `convs.i`, `conv_cat`
//  PSPHead (pool_scales): `psp_modules.i.1` (pool -> 1x1 ConvModule), `bottleneck`
//  ASPPHead (dilations): `image_pool.1`, `aspp_modules.i`, `bottleneck`
//  DepthwiseSeparableASPPHead (+ c1_in_channels, c1_channels): DeepLabV3+'s decoder,
//    `c1_bottleneck`, `sep_bottleneck.{0,1}` (depthwise-separable convs)
//  UPerHead (pool_scales, in_channels list): PPM on the last input, `lateral_convs.i`,
//    `fpn_convs.i`, `fpn_bottleneck`
//  SegformerHead (in_channels list): SegFormer's all-MLP decoder, a 1x1 ConvModule per input
//    (`convs.i`), all resized to the first input's size (bilinear), concatenated, `fusion_conv`
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>

#include "segtrain/models/heads/decode_head.h"

namespace segtrain::models {

class FCNHead : public DecodeHead {
 public:
  FCNHead(HeadOptions o, int num_convs, int64_t kernel_size, bool concat_input, int64_t dilation);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;

 private:
  torch::nn::Sequential convs{nullptr};
  ConvModule conv_cat{nullptr};
};

// Pyramid pooling: each scale pools, 1x1-convs and upsamples back to the input's size.
class PPMImpl : public torch::nn::Module {
 public:
  PPMImpl(const std::vector<int64_t>& scales, int64_t in, int64_t channels, const std::optional<NormConfig>& norm,
          bool align_corners);
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  torch::nn::ModuleList branches{nullptr};

 private:
  bool align_corners_;
};
TORCH_MODULE(PPM);

class PSPHead : public DecodeHead {
 public:
  PSPHead(HeadOptions o, const std::vector<int64_t>& pool_scales);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;

 private:
  PPM psp_modules{nullptr};
  ConvModule bottleneck{nullptr};
};

class ASPPHead : public DecodeHead {
 public:
  ASPPHead(HeadOptions o, const std::vector<int64_t>& dilations, bool separable = false);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;
  // Image pool + atrous branches, concatenated and fused by `bottleneck`.
  torch::Tensor aspp(const torch::Tensor& x);

 private:
  torch::nn::Sequential image_pool{nullptr};
  torch::nn::ModuleList aspp_modules{nullptr};
  ConvModule bottleneck{nullptr};
};

class DepthwiseSeparableASPPHead : public ASPPHead {
 public:
  DepthwiseSeparableASPPHead(HeadOptions o, const std::vector<int64_t>& dilations, int64_t c1_in_channels,
                             int64_t c1_channels);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;

 private:
  ConvModule c1_bottleneck{nullptr};
  torch::nn::Sequential sep_bottleneck{nullptr};
};

class UPerHead : public DecodeHead {
 public:
  UPerHead(HeadOptions o, const std::vector<int64_t>& pool_scales);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;

 private:
  PPM psp_modules{nullptr};
  ConvModule bottleneck{nullptr}, fpn_bottleneck{nullptr};
  torch::nn::ModuleList lateral_convs{nullptr}, fpn_convs{nullptr};
};

class SegformerHead : public DecodeHead {
 public:
  explicit SegformerHead(HeadOptions o);

 protected:
  torch::Tensor features(const std::vector<torch::Tensor>& inputs) override;

 private:
  torch::nn::ModuleList convs{nullptr};
  ConvModule fusion_conv{nullptr};
};

}  // namespace segtrain::models
