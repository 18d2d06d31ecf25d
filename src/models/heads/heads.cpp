#include "segtrain/models/heads/heads.h"

#include <torch/nn/modules/pooling.h>

namespace segtrain::models {

// ---- FCNHead ----
FCNHead::FCNHead(HeadOptions o, int num_convs, int64_t kernel_size, bool concat_input, int64_t dilation)
    : DecodeHead(std::move(o)) {
  const int64_t pad = kernel_size / 2 * dilation;
  convs = register_module("convs", torch::nn::Sequential());
  for (int i = 0; i < num_convs; ++i)
    convs->push_back(ConvModule(ConvSpec{i == 0 ? options_.in_channel() : options_.channels, options_.channels,
                                         kernel_size, 1, pad, dilation},
                                options_.norm));
  if (concat_input)
    conv_cat = register_module("conv_cat", ConvModule(ConvSpec{options_.in_channel() + options_.channels,
                                                               options_.channels, kernel_size, 1, kernel_size / 2},
                                                      options_.norm));
}

torch::Tensor FCNHead::features(const std::vector<torch::Tensor>& inputs) {
  torch::Tensor x = select(inputs).front();
  torch::Tensor out = convs->size() ? convs->forward(x) : x;
  return conv_cat ? conv_cat->forward(torch::cat({x, out}, 1)) : out;
}

// ---- PPM / PSPHead ----
PPMImpl::PPMImpl(const std::vector<int64_t>& scales, int64_t in, int64_t channels,
                 const std::optional<NormConfig>& norm, bool align_corners)
    : align_corners_(align_corners) {
  branches = register_module("branches", torch::nn::ModuleList());
  for (int64_t s : scales)
    branches->push_back(torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(s), ConvModule(ConvSpec{in, channels, 1}, norm)));
}

std::vector<torch::Tensor> PPMImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> outs;
  for (const auto& b : *branches)
    outs.push_back(resize(b->as<torch::nn::Sequential>()->forward(x), x.sizes().slice(2), align_corners_));
  return outs;
}

// Registers a PPM's branches directly under `name` (MMSeg's PPM is itself a ModuleList, so its
// keys are `psp_modules.0.1.conv.weight`, with no extra level).
static PPM register_ppm(torch::nn::Module& owner, const std::string& name, PPM ppm) {
  owner.register_module(name, ppm->branches);
  return ppm;
}

PSPHead::PSPHead(HeadOptions o, const std::vector<int64_t>& pool_scales) : DecodeHead(std::move(o)) {
  psp_modules = register_ppm(*this, "psp_modules",
                             PPM(pool_scales, options_.in_channel(), options_.channels, options_.norm, options_.align_corners));
  bottleneck = register_module(
      "bottleneck", ConvModule(ConvSpec{options_.in_channel() + static_cast<int64_t>(pool_scales.size()) * options_.channels,
                                        options_.channels, 3, 1, 1},
                               options_.norm));
}

torch::Tensor PSPHead::features(const std::vector<torch::Tensor>& inputs) {
  torch::Tensor x = select(inputs).front();
  std::vector<torch::Tensor> all{x};
  for (auto& t : psp_modules->forward(x)) all.push_back(t);
  return bottleneck->forward(torch::cat(all, 1));
}

// ---- ASPPHead / DepthwiseSeparableASPPHead ----
ASPPHead::ASPPHead(HeadOptions o, const std::vector<int64_t>& dilations, bool separable) : DecodeHead(std::move(o)) {
  const int64_t in = options_.in_channel(), ch = options_.channels;
  image_pool = register_module("image_pool", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1),
                                                                   ConvModule(ConvSpec{in, ch, 1}, options_.norm)));
  aspp_modules = register_module("aspp_modules", torch::nn::ModuleList());
  for (int64_t d : dilations) {
    if (d == 1) aspp_modules->push_back(ConvModule(ConvSpec{in, ch, 1}, options_.norm));
    else if (separable) aspp_modules->push_back(DepthwiseSeparableConvModule(ConvSpec{in, ch, 3, 1, d, d}, options_.norm));
    else aspp_modules->push_back(ConvModule(ConvSpec{in, ch, 3, 1, d, d}, options_.norm));
  }
  bottleneck = register_module(
      "bottleneck", ConvModule(ConvSpec{(static_cast<int64_t>(dilations.size()) + 1) * ch, ch, 3, 1, 1}, options_.norm));
}

torch::Tensor ASPPHead::aspp(const torch::Tensor& x) {
  std::vector<torch::Tensor> all{resize(image_pool->forward(x), x.sizes().slice(2), options_.align_corners)};
  for (const auto& m : *aspp_modules) {
    if (auto conv = m->as<ConvModuleImpl>()) all.push_back(conv->forward(x));
    else all.push_back(m->as<DepthwiseSeparableConvModuleImpl>()->forward(x));
  }
  return bottleneck->forward(torch::cat(all, 1));
}

torch::Tensor ASPPHead::features(const std::vector<torch::Tensor>& inputs) { return aspp(select(inputs).front()); }

DepthwiseSeparableASPPHead::DepthwiseSeparableASPPHead(HeadOptions o, const std::vector<int64_t>& dilations,
                                                       int64_t c1_in_channels, int64_t c1_channels)
    : ASPPHead(std::move(o), dilations, /*separable=*/true) {
  const int64_t ch = options_.channels;
  if (c1_in_channels > 0)
    c1_bottleneck = register_module("c1_bottleneck", ConvModule(ConvSpec{c1_in_channels, c1_channels, 1}, options_.norm));
  sep_bottleneck = register_module(
      "sep_bottleneck",
      torch::nn::Sequential(DepthwiseSeparableConvModule(ConvSpec{ch + (c1_in_channels > 0 ? c1_channels : 0), ch, 3, 1, 1}, options_.norm),
                            DepthwiseSeparableConvModule(ConvSpec{ch, ch, 3, 1, 1}, options_.norm)));
}

torch::Tensor DepthwiseSeparableASPPHead::features(const std::vector<torch::Tensor>& inputs) {
  torch::Tensor out = aspp(select(inputs).front());
  if (c1_bottleneck) {
    torch::Tensor c1 = c1_bottleneck->forward(inputs.front());  // MMSeg: the first backbone output
    out = torch::cat({resize(out, c1.sizes().slice(2), options_.align_corners), c1}, 1);
  }
  return sep_bottleneck->forward(out);
}

// ---- UPerHead ----
UPerHead::UPerHead(HeadOptions o, const std::vector<int64_t>& pool_scales) : DecodeHead(std::move(o)) {
  const auto& in = options_.in_channels;
  const int64_t ch = options_.channels;
  psp_modules = register_ppm(*this, "psp_modules", PPM(pool_scales, in.back(), ch, options_.norm, options_.align_corners));
  bottleneck = register_module(
      "bottleneck", ConvModule(ConvSpec{in.back() + static_cast<int64_t>(pool_scales.size()) * ch, ch, 3, 1, 1}, options_.norm));
  lateral_convs = register_module("lateral_convs", torch::nn::ModuleList());
  fpn_convs = register_module("fpn_convs", torch::nn::ModuleList());
  for (std::size_t i = 0; i + 1 < in.size(); ++i) {
    lateral_convs->push_back(ConvModule(ConvSpec{in[i], ch, 1}, options_.norm));
    fpn_convs->push_back(ConvModule(ConvSpec{ch, ch, 3, 1, 1}, options_.norm));
  }
  fpn_bottleneck = register_module(
      "fpn_bottleneck", ConvModule(ConvSpec{static_cast<int64_t>(in.size()) * ch, ch, 3, 1, 1}, options_.norm));
}

torch::Tensor UPerHead::features(const std::vector<torch::Tensor>& raw) {
  auto inputs = select(raw);
  const bool ac = options_.align_corners;
  std::vector<torch::Tensor> laterals;
  for (std::size_t i = 0; i + 1 < inputs.size(); ++i) laterals.push_back(lateral_convs[i]->as<ConvModuleImpl>()->forward(inputs[i]));
  std::vector<torch::Tensor> psp{inputs.back()};
  for (auto& t : psp_modules->forward(inputs.back())) psp.push_back(t);
  laterals.push_back(bottleneck->forward(torch::cat(psp, 1)));
  for (std::size_t i = laterals.size() - 1; i > 0; --i)  // top-down
    laterals[i - 1] = laterals[i - 1] + resize(laterals[i], laterals[i - 1].sizes().slice(2), ac);
  std::vector<torch::Tensor> outs;
  for (std::size_t i = 0; i + 1 < laterals.size(); ++i) outs.push_back(fpn_convs[i]->as<ConvModuleImpl>()->forward(laterals[i]));
  outs.push_back(laterals.back());
  for (std::size_t i = 1; i < outs.size(); ++i) outs[i] = resize(outs[i], outs[0].sizes().slice(2), ac);
  return fpn_bottleneck->forward(torch::cat(outs, 1));
}

SegformerHead::SegformerHead(HeadOptions o) : DecodeHead(std::move(o)) {
  const int64_t ch = options_.channels;
  convs = register_module("convs", torch::nn::ModuleList());
  for (const int64_t in : options_.in_channels) convs->push_back(ConvModule(ConvSpec{in, ch, 1}, options_.norm));
  fusion_conv = register_module(
      "fusion_conv", ConvModule(ConvSpec{static_cast<int64_t>(options_.in_channels.size()) * ch, ch, 1}, options_.norm));
}

torch::Tensor SegformerHead::features(const std::vector<torch::Tensor>& raw) {
  const auto inputs = select(raw);
  std::vector<torch::Tensor> outs;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    outs.push_back(resize(convs[i]->as<ConvModuleImpl>()->forward(inputs[i]), inputs[0].sizes().slice(2),
                          options_.align_corners));
  return fusion_conv->forward(torch::cat(outs, 1));
}

}  // namespace segtrain::models
