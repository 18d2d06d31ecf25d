#pragma once
// Averages gradients across ranks while backward runs: what DistributedDataParallel does,
// natively.
//  - Parameters are grouped into buckets in reverse registration order (roughly the order
//    backward produces their gradients): the first bucket up to `first_bucket_bytes`, the
//    others up to `bucket_bytes`.
//  - A hook after each parameter's gradient accumulation copies the gradient into its bucket;
//    a full bucket is allreduced at once (async), so communication overlaps the rest of backward.
//    Buckets launch in index order on every rank, so all ranks issue the same collectives, on
//    a communicator of the reducer's own (SyncBN's collectives keep theirs in step).
//  - At the end of backward (an autograd engine callback) the reducer waits for every bucket
//    and points each `.grad` at its averaged slice of the bucket: when `loss.backward()`
//    returns, the gradients are synchronized and the optimizer may step.
//  - A parameter that got no gradient: with `find_unused_parameters` it counts as zero in the
//    average, and one that no rank used is left with no gradient (DDP's rule: the optimizer
//    skips it); without the option, backward fails with an error naming it (after the
//    collectives, so the other ranks are not left waiting).
//  - `no_sync()` accumulates micro-batch gradients locally; the next synchronized backward
//    reduces the accumulated sum.
//  - `compress_to` (config `comm_hook`): gradients communicated in 16 bits.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtrain/dist/communicator.h"

namespace torch::nn { class Module; }

namespace segtrain::dist {

struct ReducerOptions {
  int64_t first_bucket_bytes = 1 << 20;
  int64_t bucket_bytes = 25 << 20;
  bool find_unused_parameters = false;
  // kHalf or kBFloat16: buckets travel in that dtype (DDP's fp16_compress_hook and
  // bf16_compress_hook): each rank's share (gradient / ranks) is rounded to 16 bits, summed in
  // 16 bits, and widened back into the bucket. Half the bytes for a rounded average.
  std::optional<at::ScalarType> compress_to = std::nullopt;
};

// What the last synchronized backward did and when (for tests and the benchmark).
struct ReducerTimeline {
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> bucket_launched;                 // reducer handed it to the backend
  std::vector<std::optional<Clock::time_point>> bucket_started;   // backend began (where known)
  Clock::time_point backward_finished;                            // end-of-backward callback ran
  Clock::time_point synchronized;                                 // all buckets done
};

class Reducer {
 public:
  // `params`: (name, parameter) in registration order; those not requiring grad are skipped.
  // Collective: the buckets go over a duplicate of `comm` (Communicator::duplicate).
  Reducer(std::vector<std::pair<std::string, at::Tensor>> params, std::shared_ptr<Communicator> comm,
          ReducerOptions options = {});
  ~Reducer();
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  class NoSync {
   public:
    explicit NoSync(Reducer& r);
    ~NoSync();
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    Reducer& reducer_;
  };
  // While the returned guard lives, backward passes only accumulate gradients locally.
  [[nodiscard]] NoSync no_sync() { return NoSync(*this); }

  std::size_t num_buckets() const;
  // Parameter names per bucket, in bucket order.
  std::vector<std::vector<std::string>> bucket_names() const;
  const ReducerTimeline& timeline() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Collective: every parameter and buffer of `module` takes rank 0's value.
void broadcast_module_state(torch::nn::Module& module, Communicator& comm);

}  // namespace segtrain::dist
