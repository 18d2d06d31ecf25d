#pragma once
// MMSeg's EncoderDecoder: backbone -> decode_head (+ auxiliary heads for training).
//  forward_train: named losses and accuracies, `decode.loss_ce`, `decode.acc_seg`,
//    `aux.loss_ce`, `aux.acc_seg` (`aux_0.*`, `aux_1.*` for a list of auxiliary heads).
//  inference: logits at the image's size, `whole` (one pass) or `slide` (crop_size windows every
//    stride; overlapping logits summed and divided by the count), optionally averaged with the
//    horizontally flipped image.
// Built from the `model` section by build_segmentor (registry.h).
#include <torch/nn/module.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segtrain/models/backbones/backbone.h"
#include "segtrain/models/heads/decode_head.h"

namespace segtrain::models {

struct TestConfig {
  std::string mode = "whole";  // or "slide"
  std::array<int64_t, 2> crop_size{512, 512};
  std::array<int64_t, 2> stride{341, 341};
};

class EncoderDecoderImpl : public torch::nn::Module {
 public:
  EncoderDecoderImpl(std::shared_ptr<Backbone> backbone, std::shared_ptr<DecodeHead> decode_head,
                     std::vector<std::shared_ptr<DecodeHead>> auxiliary_heads, TestConfig test_cfg);

  std::map<std::string, torch::Tensor> forward_train(const torch::Tensor& images, const torch::Tensor& labels);
  // Logits N x C x H x W for images N x 3 x H x W.
  torch::Tensor inference(const torch::Tensor& images, bool flip = false);
  // Backbone + decode head, logits resized to the input size.
  torch::Tensor encode_decode(const torch::Tensor& images);

  std::shared_ptr<Backbone> backbone;
  std::shared_ptr<DecodeHead> decode_head;
  std::vector<std::shared_ptr<DecodeHead>> auxiliary_heads;
  TestConfig test_cfg;

 private:
  torch::Tensor slide_inference(const torch::Tensor& images);
};
TORCH_MODULE(EncoderDecoder);

// The sum of every entry whose name contains "loss" (MMSeg's parse_losses).
torch::Tensor total_loss(const std::map<std::string, torch::Tensor>& losses);

}  // namespace segtrain::models
