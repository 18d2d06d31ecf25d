#include "segtrain/engine/hooks/lr_hook.h"

namespace segtrain::engine {

void LrHook::before_iter(const IterationState& s) {
  optimizer_.set_lr([&](double base) { return schedule_.lr(base, s.iter); });
}

}  // namespace segtrain::engine
