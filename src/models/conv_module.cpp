#include "segtrain/models/conv_module.h"

#include <torch/nn/functional/upsampling.h>

#include "segtrain/config/config.h"
#include "segtrain/core/suggest.h"

namespace segtrain::models {

NormConfig NormConfig::parse(const config::ConfigNode& node, std::shared_ptr<dist::Communicator> comm) {
  node.check_keys({"type", "requires_grad", "momentum", "eps"});
  NormConfig n;
  n.type = node.get<std::string>("type");
  if (n.type != "BN" && n.type != "SyncBN")
    throw node.at("type").error("unknown norm type '" + n.type + "'" + did_you_mean(n.type, {"BN", "SyncBN"}) +
                                "; valid types are 'BN', 'SyncBN'");
  n.requires_grad = node.get<bool>("requires_grad", true);
  n.momentum = node.get<double>("momentum", n.momentum);
  n.eps = node.get<double>("eps", n.eps);
  if (n.momentum < 0 || n.momentum > 1) throw node.at("momentum").error("expected a value in [0, 1]");
  if (n.eps <= 0) throw node.at("eps").error("expected a positive value");
  if (n.type == "SyncBN") n.comm = std::move(comm);
  return n;
}

dist::SyncBatchNorm NormConfig::make(int64_t channels) const {
  dist::SyncBatchNorm bn(channels, comm, eps, momentum);
  bn->weight.set_requires_grad(requires_grad);
  bn->bias.set_requires_grad(requires_grad);
  return bn;
}

ConvModuleImpl::ConvModuleImpl(const ConvSpec& s, const std::optional<NormConfig>& norm, bool relu) : relu_(relu) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.in, s.out, s.kernel)
                                                        .stride(s.stride)
                                                        .padding(s.padding)
                                                        .dilation(s.dilation)
                                                        .groups(s.groups)
                                                        .bias(!norm)));
  if (norm) bn = register_module("bn", norm->make(s.out));
}

torch::Tensor ConvModuleImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = conv->forward(x);
  if (bn) y = bn->forward(y);
  return relu_ ? torch::relu(y) : y;
}

DepthwiseSeparableConvModuleImpl::DepthwiseSeparableConvModuleImpl(const ConvSpec& s,
                                                                   const std::optional<NormConfig>& norm) {
  ConvSpec depthwise = s;
  depthwise.out = s.in;
  depthwise.groups = s.in;
  depthwise_conv = register_module("depthwise_conv", ConvModule(depthwise, norm));
  pointwise_conv = register_module("pointwise_conv", ConvModule(ConvSpec{s.in, s.out, 1}, norm));
}

torch::Tensor DepthwiseSeparableConvModuleImpl::forward(const torch::Tensor& x) {
  return pointwise_conv->forward(depthwise_conv->forward(x));
}

torch::Tensor resize(const torch::Tensor& x, at::IntArrayRef size, bool align_corners) {
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>(size.begin(), size.end()))
                               .mode(torch::kBilinear)
                               .align_corners(align_corners));
}

}  // namespace segtrain::models
