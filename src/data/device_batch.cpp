#include "segtrain/data/device_batch.h"

#include <ATen/ATen.h>

namespace segtrain::data {

at::Tensor model_images(const Batch& batch, const at::Tensor& images_on_device, at::MemoryFormat format) {
  if (!batch.normalize) return images_on_device.contiguous(format);
  const NormalizeParams& n = *batch.normalize;
  at::Tensor x = images_on_device.permute({0, 3, 1, 2});  // NCHW view of NHWC bytes
  if (!n.to_rgb) x = x.flip({1});  // mean/std given in BGR order: BGR out
  const auto per_channel = [&](const std::array<double, 3>& v) {
    return at::tensor({v[0], v[1], v[2]}, x.options().dtype(at::kDouble)).view({1, 3, 1, 1});
  };
  x = x.to(at::kDouble).sub_(per_channel(n.mean)).div_(per_channel(n.std)).to(at::kFloat).contiguous(format);
  for (std::size_t i = 0; i < batch.valid_shapes.size(); ++i) {
    const auto [h, w] = batch.valid_shapes[i];
    at::Tensor sample = x[static_cast<int64_t>(i)];
    if (h < x.size(2)) sample.narrow(1, h, x.size(2) - h).zero_();
    if (w < x.size(3)) sample.narrow(1, 0, h).narrow(2, w, x.size(3) - w).zero_();
  }
  return x;
}

at::Tensor model_labels(const at::Tensor& labels_on_device) { return labels_on_device.to(at::kLong); }

}  // namespace segtrain::data
