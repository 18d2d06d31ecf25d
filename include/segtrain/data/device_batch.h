#pragma once
// A batch as the model takes it, once its tensors are on the training device: float32
// N x 3 x H x W images in the model's memory format and int64 labels. Batches whose Normalize
// was left to the device (Batch::normalize) are normalized here with Normalize's own arithmetic
// (double, rounded to float: the values are the host's bit for bit) and their padding is set to
// 0, which is what the pipeline's Pads after Normalize would have written.
#include <ATen/core/Tensor.h>

#include "segtrain/data/loader.h"

namespace segtrain::data {

at::Tensor model_images(const Batch& batch, const at::Tensor& images_on_device, at::MemoryFormat format);
at::Tensor model_labels(const at::Tensor& labels_on_device);

}  // namespace segtrain::data
