#pragma once
// Every `interval` iterations rank 0 writes MMSeg's line:
//   Iter [200/40000]	lr: 9.998e-03, eta: 1:05:45, time: 0.141, data_time: 0.008, memory: 22159, decode.loss_ce: ...
// losses and accuracies averaged over the interval and over ranks (one allreduce, all ranks, at
// the same iterations); memory = peak MB (CUDA max allocated, or max RSS on CPU), max over ranks;
// eta from the iterations this process ran (a resumed run's earlier ones took no time here).
// The same keys go to the JSON log with "mode": "train", and `interval_memory`: the peak of
// this interval alone (CUDA; the CPU's max RSS cannot go down), what a benchmark measures
// once cuDNN's autotuning of the first iterations is over.
#include <map>
#include <string>

#include "segtrain/dist/communicator.h"
#include "segtrain/engine/runner.h"

namespace segtrain::io { class RecordSink; }

namespace segtrain::engine {

class LoggerHook : public Hook {
 public:
  // `records`: rank 0's, null elsewhere. `device`: whose peak memory is reported.
  LoggerHook(int64_t interval, dist::Communicator& comm, c10::Device device, io::RecordSink* records)
      : interval_(interval), comm_(comm), device_(device), records_(records) {}
  void after_iter(const IterationState& s) override;

 private:
  int64_t interval_;
  dist::Communicator& comm_;
  c10::Device device_;
  io::RecordSink* records_;  // rank 0's (the JSON log, TensorBoard), null elsewhere
  std::map<std::string, double> sums_;
  double time_sum_ = 0, data_sum_ = 0, total_time_ = 0;
  double peak_mb_ = 0;  // since the start (MMCV's `memory`); `interval_memory` is since the last log
  int64_t count_ = 0;
};

}  // namespace segtrain::engine
