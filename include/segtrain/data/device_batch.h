#pragma once
// A batch as the model takes it, once its tensors are on the training device: float32
// N x 3 x H x W images in the model's memory format and int64 labels. Batches whose Normalize
// was left to the device (Batch::normalize) are normalized here by a lookup in the host
// Normalize's own 256-entry table per channel (copied to the device once: the values are the
// host's bit for bit, and no constant crosses with each batch), and their padding is set to 0,
// which is what the pipeline's Pads after Normalize would have written.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <optional>

#include "segtrain/data/loader.h"

namespace segtrain::data {

class ModelInput {
 public:
  explicit ModelInput(c10::Device device) : device_(device) {}
  at::Tensor images(const Batch& batch, const at::Tensor& images_on_device, at::MemoryFormat format);
  static at::Tensor labels(const at::Tensor& labels_on_device);

 private:
  c10::Device device_;
  std::optional<NormalizeParams> table_of_;  // the parameters table_ was made for
  at::Tensor table_;  // 3 x 256 float32 on the device: (v - mean[c]) / std[c]
};

}  // namespace segtrain::data
