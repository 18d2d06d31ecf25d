#include "segtrain/data/device_batch.h"

#include <ATen/ATen.h>

#include "segtrain/data/transforms/photometric.h"

namespace segtrain::data {
namespace {

bool same(const NormalizeParams& a, const NormalizeParams& b) {
  return a.mean == b.mean && a.std == b.std && a.to_rgb == b.to_rgb;
}

}  // namespace

at::Tensor ModelInput::images(const Batch& batch, const at::Tensor& images_on_device, at::MemoryFormat format) {
  if (!batch.normalize) return images_on_device.contiguous(format);
  const NormalizeParams& n = *batch.normalize;
  if (!table_of_ || !same(*table_of_, n)) {
    table_ = normalize_table(n).to(device_);  // once per run: a blocking copy of 3 KiB
    table_of_ = n;
  }
  at::Tensor x = images_on_device;  // N x H x W x 3 uint8
  if (!n.to_rgb) x = x.flip({3});   // mean/std given in BGR order: BGR out
  // Channel c of a pixel of value v is table[c][v], i.e. flat entry 256 * c + v.
  const at::Tensor offsets = at::arange(0, 768, 256, x.options().dtype(at::kLong));
  at::Tensor out = at::take(table_, x.to(at::kLong).add_(offsets)).permute({0, 3, 1, 2}).contiguous(format);
  for (std::size_t i = 0; i < batch.valid_shapes.size(); ++i) {
    const auto [h, w] = batch.valid_shapes[i];
    at::Tensor sample = out[static_cast<int64_t>(i)];
    if (h < out.size(2)) sample.narrow(1, h, out.size(2) - h).zero_();
    if (w < out.size(3)) sample.narrow(1, 0, h).narrow(2, w, out.size(3) - w).zero_();
  }
  return out;
}

at::Tensor ModelInput::labels(const at::Tensor& labels_on_device) { return labels_on_device.to(at::kLong); }

}  // namespace segtrain::data
