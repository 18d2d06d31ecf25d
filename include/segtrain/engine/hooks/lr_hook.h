#pragma once
// Sets each parameter group's learning rate from the schedule before every iteration.
#include "segtrain/engine/lr_schedule.h"
#include "segtrain/engine/optimizer.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class LrHook : public Hook {
 public:
  LrHook(Optimizer& optimizer, LrSchedule schedule) : optimizer_(optimizer), schedule_(std::move(schedule)) {}
  void before_iter(const IterationState& s) override;

 private:
  Optimizer& optimizer_;
  LrSchedule schedule_;
};

}  // namespace segtrain::engine
