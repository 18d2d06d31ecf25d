#pragma once
// What EncoderDecoder needs of a backbone: the feature maps of its stages (those in out_indices),
// and their channel counts for the heads. ResNet (resnet.h) and MixVisionTransformer
// (mix_vision_transformer.h) are backbones; registry.h builds them from the config.
#include <torch/nn/module.h>

#include <vector>

namespace segtrain::models {

class Backbone : public torch::nn::Module {
 public:
  // The outputs of the stages in out_indices, N x C_i x H_i x W_i.
  virtual std::vector<torch::Tensor> forward(const torch::Tensor& x) = 0;
  // Channels of each stage's output (all stages, not only out_indices).
  virtual std::vector<int64_t> stage_channels() const = 0;
};

}  // namespace segtrain::models
