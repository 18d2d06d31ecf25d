#pragma once
// The iteration-based training loop (MMCV's IterBasedRunner), Detectron2-style: the loop is
// short, and everything else (lr schedule, logging, checkpoints, evaluation, preemption) is a
// hook called before and after the run and each iteration. Hooks get what they work on when
// they are made, and see the loop only through IterationState. Every rank runs the same loop;
// hooks that talk across ranks do so at the same iterations on every rank. A NaN or Inf loss
// (or gradient, averaged over ranks) stops the run before the optimizer step: a runtime error
// naming the iteration and the loss, on every rank at the same iteration. With float16's loss
// scaler an Inf gradient is an overflow instead: the step is skipped and the scale backs off.
#include <torch/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "segtrain/data/device_feeder.h"
#include "segtrain/data/loader.h"
#include "segtrain/engine/loss_scaler.h"
#include "segtrain/engine/optimizer.h"
#include "segtrain/engine/precision.h"
#include "segtrain/models/segmentor.h"

namespace segtrain::engine {

// What hooks see of the loop.
struct IterationState {
  int64_t iter = 0;        // iterations completed
  int64_t start_iter = 0;  // where this process began (> 0 after a resume)
  int64_t max_iters = 0;
  data::TrainSampler::Position position;  // the sampler after the last batch trained on
  std::map<std::string, double> outputs;  // this iteration's losses and accuracies (this rank)
  double iter_seconds = 0, data_seconds = 0;
  double lr = 0;  // of the first parameter group, this iteration
  int64_t skipped_steps = 0;  // by this process: float16 gradients that overflowed

  // Every n iterations, and at the last one.
  bool every(int64_t n) const { return n > 0 && (iter % n == 0 || iter == max_iters); }
};

class Hook {
 public:
  virtual ~Hook() = default;
  virtual void before_train(const IterationState&) {}
  virtual void before_iter(const IterationState&) {}
  virtual void after_iter(const IterationState&) {}
  virtual void after_train(const IterationState&) {}
};

struct RunnerOptions {
  int64_t max_iters = 0;
  std::optional<double> grad_clip_max_norm;  // optimizer_config.grad_clip.max_norm (unscaled gradients)
  // A dist::Reducer holds the gradients as views of its buckets: zero them in place instead of
  // dropping them, so that backward accumulates straight into the buckets.
  bool gradients_in_buckets = false;
  Precision precision;  // autocast for the forward pass
  bool channels_last = false;  // batches NHWC, as the model's weights (models/memory_format.h)
  // float16's loss scaler (owned by the caller, which checkpoints it); null otherwise. A step
  // whose gradients overflowed is skipped and counted, not an error.
  LossScaler* loss_scaler = nullptr;
};

class Runner {
 public:
  // The runner trains `model` with `optimizer` on `loader`'s batches; all three outlive it.
  Runner(models::EncoderDecoder model, Optimizer& optimizer, data::Loader& loader, c10::Device device,
         RunnerOptions options);
  // Continue a resumed run: `iter` iterations done, the sampler at `position`.
  void resume_at(int64_t iter, data::TrainSampler::Position position);
  void add_hook(std::unique_ptr<Hook> hook);
  void run();
  const IterationState& state() const { return state_; }

 private:
  models::EncoderDecoder model_;
  Optimizer& optimizer_;
  data::DeviceFeeder feeder_;  // the loader's batches, one ahead on the device
  c10::Device device_;
  RunnerOptions options_;
  std::vector<std::unique_ptr<Hook>> hooks_;
  IterationState state_;
};

}  // namespace segtrain::engine
