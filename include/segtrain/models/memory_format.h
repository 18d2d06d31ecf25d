#pragma once
// channels_last (`channels_last: true` in the config): 4-D weights and input batches (those in
// data/device_feeder.h) stored NHWC, which cuDNN's convolutions (tensor cores above all) run
// faster than NCHW. Values, names and shapes do not change: checkpoints are the same either way.
#include <torch/nn/module.h>

namespace segtrain::models {

// Every 4-D parameter and buffer of `module`, in place (same tensors, new strides): an optimizer
// made before keeps working.
void to_channels_last(torch::nn::Module& module);

}  // namespace segtrain::models
