#include "segtrain/models/backbones/resnet.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/pooling.h>

#include "segtrain/core/error.h"
#include "segtrain/models/activation_checkpoint.h"

namespace segtrain::models {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                               .stride(stride)
                               .padding(dilation * (k / 2))
                               .dilation(dilation)
                               .bias(false));
}

std::pair<bool, std::vector<int>> arch(int depth) {
  switch (depth) {
    case 18: return {false, {2, 2, 2, 2}};
    case 34: return {false, {3, 4, 6, 3}};
    case 50: return {true, {3, 4, 6, 3}};
    case 101: return {true, {3, 4, 23, 3}};
    case 152: return {true, {3, 8, 36, 3}};
    default: throw user_error("model.backbone.depth", "invalid depth " + std::to_string(depth) + " for ResNet; valid are 18, 34, 50, 101, 152");
  }
}

}  // namespace

ResBlockImpl::ResBlockImpl(bool bottleneck, int64_t inplanes, int64_t planes, int64_t stride, int64_t dilation,
                           bool with_downsample, bool avg_down, const NormConfig& norm, bool with_cp)
    : bottleneck_(bottleneck), with_cp_(with_cp) {
  if (bottleneck) {
    conv1 = register_module("conv1", conv(inplanes, planes, 1));
    bn1 = register_module("bn1", norm.make(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3, stride, dilation));
    bn2 = register_module("bn2", norm.make(planes));
    conv3 = register_module("conv3", conv(planes, planes * 4, 1));
    bn3 = register_module("bn3", norm.make(planes * 4));
  } else {
    conv1 = register_module("conv1", conv(inplanes, planes, 3, stride, dilation));
    bn1 = register_module("bn1", norm.make(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3));  // MMSeg's BasicBlock dilates conv1 only
    bn2 = register_module("bn2", norm.make(planes));
  }
  if (with_downsample) {
    const int64_t out = planes * expansion(bottleneck);
    // avg_down (ResNetV1d) pools before a stride-1 conv; MMSeg adds the pool even at stride 1,
    // where it is the identity, so the conv is always `downsample.1`.
    downsample = register_module(
        "downsample", avg_down ? torch::nn::Sequential(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(stride)
                                                                                .ceil_mode(true)
                                                                                .count_include_pad(false)),
                                                       conv(inplanes, out, 1), norm.make(out))
                               : torch::nn::Sequential(conv(inplanes, out, 1, stride), norm.make(out)));
  }
  inner_fn_ = [this](const torch::Tensor& x) { return inner(x); };
}

torch::Tensor ResBlockImpl::inner(const torch::Tensor& x) {
  torch::Tensor out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  if (bottleneck_) out = bn3->forward(conv3->forward(torch::relu(out)));
  return out + (downsample ? downsample->forward(x) : x);
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x) {
  return torch::relu(with_cp_ ? activation_checkpoint(*this, inner_fn_, x) : inner(x));
}

ResNetImpl::ResNetImpl(const ResNetOptions& o) : options_(o) {
  const auto [bottleneck, blocks] = arch(o.depth);
  if (o.num_stages < 1 || o.num_stages > 4 || static_cast<int>(o.strides.size()) != o.num_stages ||
      static_cast<int>(o.dilations.size()) != o.num_stages)
    throw user_error("model.backbone", "strides and dilations need one entry per stage (num_stages " +
                                           std::to_string(o.num_stages) + ")");
  const int last_blocks = blocks[o.num_stages - 1];
  if (!o.multi_grid.empty() && static_cast<int>(o.multi_grid.size()) != last_blocks)
    throw user_error("model.backbone.multi_grid", "needs one dilation per block of the last stage (" +
                                                      std::to_string(last_blocks) + " for depth " +
                                                      std::to_string(o.depth) + ")");
  if (o.deep_stem) {
    const int64_t half = o.stem_channels / 2;
    stem = register_module("stem", torch::nn::Sequential(conv(o.in_channels, half, 3, 2), o.norm.make(half),
                                                         torch::nn::ReLU(), conv(half, half, 3), o.norm.make(half),
                                                         torch::nn::ReLU(), conv(half, o.stem_channels, 3),
                                                         o.norm.make(o.stem_channels), torch::nn::ReLU()));
  } else {
    conv1 = register_module("conv1", conv(o.in_channels, o.stem_channels, 7, 2));
    bn1 = register_module("bn1", o.norm.make(o.stem_channels));
  }
  int64_t inplanes = o.stem_channels;
  for (int s = 0; s < o.num_stages; ++s) {
    const int64_t planes = o.base_channels << s;
    const int64_t dilation = o.dilations[s];
    const bool grid = s == o.num_stages - 1 && !o.multi_grid.empty();
    const int64_t first_dilation = (dilation > 1 && o.contract_dilation) ? dilation / 2 : dilation;
    torch::nn::Sequential layer;
    for (int b = 0; b < blocks[s]; ++b) {
      const int64_t stride = b == 0 ? o.strides[s] : 1;
      const int64_t block_dilation = grid ? o.multi_grid[b] : b == 0 ? first_dilation : dilation;
      const bool down = b == 0 && (stride != 1 || inplanes != planes * ResBlockImpl::expansion(bottleneck));
      layer->push_back(
          ResBlock(bottleneck, inplanes, planes, stride, block_dilation, down, o.avg_down, o.norm, o.with_cp));
      inplanes = planes * ResBlockImpl::expansion(bottleneck);
    }
    layers_.push_back(register_module("layer" + std::to_string(s + 1), layer));
  }
  // frozen_stages: the stem (0) and stages 1..k keep their weights.
  for (int s = 0; s <= o.frozen_stages && s <= o.num_stages; ++s)
    for (auto* m : stage_modules(s))
      for (auto& p : m->parameters()) p.set_requires_grad(false);
}

std::vector<torch::nn::Module*> ResNetImpl::stage_modules(int stage) {
  if (stage > 0) return {layers_[stage - 1].get()};
  if (stem) return {stem.get()};
  return {conv1.get(), bn1.get()};
}

torch::Tensor ResNetImpl::stem_forward(const torch::Tensor& x) {
  return stem ? stem->forward(x) : torch::relu(bn1->forward(conv1->forward(x)));
}

std::vector<int64_t> ResNetImpl::stage_channels() const {
  const bool bottleneck = arch(options_.depth).first;
  std::vector<int64_t> out;
  for (int s = 0; s < options_.num_stages; ++s) out.push_back((options_.base_channels << s) * ResBlockImpl::expansion(bottleneck));
  return out;
}

std::vector<torch::Tensor> ResNetImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::max_pool2d(stem_forward(x), 3, 2, 1);
  std::vector<torch::Tensor> outs;
  for (int s = 0; s < options_.num_stages; ++s) {
    y = layers_[s]->forward(y);
    if (std::find(options_.out_indices.begin(), options_.out_indices.end(), s) != options_.out_indices.end())
      outs.push_back(y);
  }
  return outs;
}

void ResNetImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!on) return;
  // As MMSeg's _freeze_stages: frozen stages (the stem is stage 0) run in eval mode, so their
  // BN layers use and keep their running statistics.
  for (int s = 0; s <= options_.frozen_stages && s <= options_.num_stages; ++s)
    for (auto* m : stage_modules(s)) m->eval();
  if (options_.norm_eval)
    for (auto& m : modules(/*include_self=*/false))
      if (dynamic_cast<dist::SyncBatchNormImpl*>(m.get())) m->eval();
}

}  // namespace segtrain::models
