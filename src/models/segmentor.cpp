#include "segtrain/models/segmentor.h"

#include <torch/nn/functional/padding.h>

namespace segtrain::models {

EncoderDecoderImpl::EncoderDecoderImpl(std::shared_ptr<Backbone> backbone_, std::shared_ptr<DecodeHead> decode_head_,
                                       std::vector<std::shared_ptr<DecodeHead>> aux, TestConfig test)
    : test_cfg(test) {
  backbone = register_module("backbone", backbone_);
  decode_head = register_module("decode_head", decode_head_);
  // One auxiliary head is `auxiliary_head.*` (MMSeg's keys); several are `auxiliary_head.0.*` ...
  if (aux.size() == 1) {
    auxiliary_heads.push_back(register_module("auxiliary_head", aux.front()));
  } else if (!aux.empty()) {
    auto list = register_module("auxiliary_head", torch::nn::ModuleList());
    for (auto& h : aux) {
      list->push_back(h);
      auxiliary_heads.push_back(h);
    }
  }
}

std::map<std::string, torch::Tensor> EncoderDecoderImpl::forward_train(const torch::Tensor& images,
                                                                      const torch::Tensor& labels) {
  auto feats = backbone->forward(images);
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : decode_head->losses(decode_head->forward(feats), labels)) out["decode." + k] = v;
  for (std::size_t i = 0; i < auxiliary_heads.size(); ++i) {
    const std::string prefix = auxiliary_heads.size() == 1 ? "aux." : "aux_" + std::to_string(i) + ".";
    for (auto& [k, v] : auxiliary_heads[i]->losses(auxiliary_heads[i]->forward(feats), labels)) out[prefix + k] = v;
  }
  return out;
}

torch::Tensor EncoderDecoderImpl::encode_decode(const torch::Tensor& images) {
  torch::Tensor logits = decode_head->forward(backbone->forward(images));
  return resize(logits, images.sizes().slice(2), decode_head->options().align_corners);
}

torch::Tensor EncoderDecoderImpl::slide_inference(const torch::Tensor& img) {
  const auto [crop_h, crop_w] = test_cfg.crop_size;
  const auto [stride_h, stride_w] = test_cfg.stride;
  const int64_t n = img.size(0), h = img.size(2), w = img.size(3);
  const int64_t grids_h = std::max<int64_t>(h - crop_h + stride_h - 1, 0) / stride_h + 1;
  const int64_t grids_w = std::max<int64_t>(w - crop_w + stride_w - 1, 0) / stride_w + 1;
  torch::Tensor sum = torch::zeros({n, decode_head->options().num_classes, h, w}, img.options());
  torch::Tensor count = torch::zeros({1, 1, h, w}, img.options());
  for (int64_t gy = 0; gy < grids_h; ++gy)
    for (int64_t gx = 0; gx < grids_w; ++gx) {
      int64_t y1 = gy * stride_h, x1 = gx * stride_w;
      const int64_t y2 = std::min(y1 + crop_h, h), x2 = std::min(x1 + crop_w, w);
      y1 = std::max<int64_t>(y2 - crop_h, 0);
      x1 = std::max<int64_t>(x2 - crop_w, 0);
      torch::Tensor crop = img.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1);
      sum.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1).add_(encode_decode(crop));
      count.narrow(2, y1, y2 - y1).narrow(3, x1, x2 - x1).add_(1);
    }
  return sum / count;
}

torch::Tensor EncoderDecoderImpl::inference(const torch::Tensor& images, bool flip) {
  auto run = [&](const torch::Tensor& x) { return test_cfg.mode == "slide" ? slide_inference(x) : encode_decode(x); };
  torch::Tensor logits = run(images);
  if (flip) logits = (logits + run(images.flip({3})).flip({3})) / 2;
  return logits;
}

torch::Tensor total_loss(const std::map<std::string, torch::Tensor>& losses) {
  torch::Tensor sum;
  for (const auto& [name, value] : losses)
    if (name.find("loss") != std::string::npos) sum = sum.defined() ? sum + value : value;
  return sum;
}

}  // namespace segtrain::models
