#include "segtrain/engine/hooks/checkpoint_hook.h"

#include "segtrain/core/logging.h"

namespace segtrain::engine {

void CheckpointHook::after_iter(const IterationState& s) {
  if (!s.every(interval_)) return;
  checkpointer_.save_iteration(s);
  log::info("Saving checkpoint at " + std::to_string(s.iter) + " iterations");
}

}  // namespace segtrain::engine
