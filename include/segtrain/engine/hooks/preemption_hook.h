#pragma once
// Preemption: SIGTERM or SIGUSR1 to any rank (core/stop_signal.h) is seen by every rank at the
// next iteration boundary (a collective max of the ranks' flags, one small MPI allreduce per
// iteration); rank 0 then writes iter_N.pth and latest.pth of that iteration, unless the
// checkpoint hook just did, and every rank throws Preempted. segtrain exits with
// kPreemptedExitCode, on which scripts/slurm_train.sbatch requeues; --auto-resume continues.
// Registered after the other hooks, so an evaluation or checkpoint due at that iteration runs first.
#include <exception>
#include <memory>

#include "segtrain/engine/checkpoint_writer.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

// EX_TEMPFAIL of sysexits.h: "try again later", which is what a preempted job should do.
constexpr int kPreemptedExitCode = 75;

class Preempted : public std::exception {
 public:
  Preempted(int signal, int64_t iter) : signal_(signal), iter_(iter) {}
  int signal() const { return signal_; }
  int64_t iter() const { return iter_; }
  const char* what() const noexcept override { return "preempted"; }

 private:
  int signal_;
  int64_t iter_;
};

class PreemptionHook : public Hook {
 public:
  explicit PreemptionHook(std::shared_ptr<CheckpointWriter> writer) : writer_(std::move(writer)) {}
  void after_iter(Runner& r) override;

 private:
  std::shared_ptr<CheckpointWriter> writer_;
};

}  // namespace segtrain::engine
