#pragma once
// checkpoint_config: every `interval` iterations (and at the end) iter_N.pth and latest.pth;
// max_keep_ckpts is the store's (io/checkpoint/checkpoint_store.h). Collective.
#include "segtrain/engine/checkpointer.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class CheckpointHook : public Hook {
 public:
  CheckpointHook(int64_t interval, Checkpointer& checkpointer) : interval_(interval), checkpointer_(checkpointer) {}
  void after_iter(const IterationState& s) override;

 private:
  int64_t interval_;
  Checkpointer& checkpointer_;
};

}  // namespace segtrain::engine
