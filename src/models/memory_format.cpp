#include "segtrain/models/memory_format.h"

namespace segtrain::models {

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor in_model_layout(const torch::Tensor& images, bool channels_last) {
  return channels_last && images.dim() == 4 ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
}

}  // namespace segtrain::models
