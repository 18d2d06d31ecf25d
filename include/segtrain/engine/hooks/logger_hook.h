#pragma once
// Every `interval` iterations rank 0 writes MMSeg's line:
//   Iter [200/40000]	lr: 9.998e-03, eta: 1:05:45, time: 0.141, data_time: 0.008, memory: 22159, decode.loss_ce: ...
// losses and accuracies averaged over the interval and over ranks (one allreduce, all ranks, at
// the same iterations); memory = peak MB (CUDA max allocated, or max RSS on CPU), max over ranks.
// The same keys go to the JSON log with "mode": "train".
#include <map>
#include <string>

#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class LoggerHook : public Hook {
 public:
  explicit LoggerHook(int64_t interval) : interval_(interval) {}
  void after_iter(Runner& r) override;

 private:
  int64_t interval_;
  std::map<std::string, double> sums_;
  double time_sum_ = 0, data_sum_ = 0, total_time_ = 0;
  int64_t count_ = 0;
};

}  // namespace segtrain::engine
