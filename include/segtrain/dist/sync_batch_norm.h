#pragma once
// BatchNorm2d whose training statistics cover the global batch across ranks (MMSeg's SyncBN).
//  forward:  each rank's per-channel mean, biased variance and pixel count are allgathered and
//            combined (ranks may hold different batch sizes, even zero); running_var takes the
//            unbiased global variance, identically on every rank.
//  backward: per-channel sum(dy) and sum(dy * (x - mean)) are allreduced; weight and bias get
//            this rank's share (the gradient reducer averages them like any parameter).
//  eval mode, or a world of one: exactly at::batch_norm, so a SyncBN config runs in one
//  process unchanged.
// Collective in training mode: every rank must run forward and backward of every SyncBN layer
// in the same order (they do: the ranks run the same model).
// ATen's batch_norm_stats family has no CPU kernels, so the statistics are tensor ops here.
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <memory>

#include "segtrain/dist/communicator.h"

namespace segtrain::dist {

class SyncBatchNormImpl : public torch::nn::Cloneable<SyncBatchNormImpl> {
 public:
  explicit SyncBatchNormImpl(int64_t num_features, std::shared_ptr<Communicator> comm = nullptr, double eps = 1e-5,
                             double momentum = 0.1);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  int64_t num_features;
  double eps, momentum;
  std::shared_ptr<Communicator> comm;
  // State-dict names as torch.nn.BatchNorm2d: MMSeg checkpoints load by name.
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(SyncBatchNorm);

}  // namespace segtrain::dist
