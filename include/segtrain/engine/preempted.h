#pragma once
// How a preempted run leaves: every rank throws Preempted once the checkpoint is written
// (hooks/preemption_hook.h), and the main exits with kPreemptedExitCode, on which
// scripts/slurm_train.sbatch requeues; --auto-resume continues.
#include <cstdint>
#include <exception>

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

}  // namespace segtrain::engine
