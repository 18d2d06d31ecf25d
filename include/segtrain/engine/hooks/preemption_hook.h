#pragma once
// Preemption: SIGTERM or SIGUSR1 to any rank (core/stop_signal.h) is seen by every rank at the
// next iteration boundary (a collective max of the ranks' flags, one small MPI allreduce per
// iteration); rank 0 then writes iter_N.pth and latest.pth of that iteration, unless the
// checkpoint hook just did, and every rank throws Preempted (engine/preempted.h).
// Registered after the other hooks, so an evaluation or checkpoint due at that iteration runs first.
#include "segtrain/dist/world.h"
#include "segtrain/engine/checkpointer.h"
#include "segtrain/engine/preempted.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class PreemptionHook : public Hook {
 public:
  PreemptionHook(const dist::World& world, Checkpointer& checkpointer) : world_(world), checkpointer_(checkpointer) {}
  void after_iter(const IterationState& s) override;

 private:
  const dist::World& world_;
  Checkpointer& checkpointer_;
};

}  // namespace segtrain::engine
