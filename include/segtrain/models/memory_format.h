#pragma once
// channels_last (`channels_last: true` in the config): 4-D weights and input batches stored
// NHWC, which cuDNN's convolutions (tensor cores above all) run faster than NCHW. Values, names
// and shapes do not change, so checkpoints are the same either way.
#include <torch/nn/module.h>

namespace segtrain::models {

// Every 4-D parameter and buffer of `module`, in place (same tensors, new strides): an optimizer
// made before keeps working.
void to_channels_last(torch::nn::Module& module);

// `images` in the layout the model wants.
torch::Tensor in_model_layout(const torch::Tensor& images, bool channels_last);

}  // namespace segtrain::models
