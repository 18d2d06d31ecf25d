#pragma once
// with_cp: activation checkpointing (torch.utils.checkpoint) of one residual block; the .pth
// checkpoint files are io/checkpoint/'s. Forward runs the block without keeping its
// activations; backward runs it again with gradients on and differentiates that.
// BatchNorm on recomputation: in training mode the second forward would update running_mean /
// running_var / num_batches_tracked a second time (momentum applied twice). The block's buffers
// are saved before the recomputation and put back after it, so running statistics change
// exactly once per step, as without with_cp. (The recomputed batch statistics are the same as
// the first forward's: same input, same weights; SyncBN repeats its collectives, in the same
// order on every rank.) Random draws (dropout, DropPath) repeat too: the recomputation runs from
// the generator state the forward pass started with, as torch.utils.checkpoint's preserve_rng_state.
// Mixed precision: the recomputation runs under the autocast its forward ran under (backward
// itself runs outside the trainer's autocast), as torch.utils.checkpoint does.
#include <torch/nn/module.h>

#include <functional>

namespace segtrain::models {

// out = fn(x), where fn uses the parameters and buffers of `block`.
torch::Tensor activation_checkpoint(torch::nn::Module& block,
                                    const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x);

}  // namespace segtrain::models
