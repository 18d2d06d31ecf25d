#include "segtrain/engine/hooks/preemption_hook.h"

#include <c10/util/StringUtil.h>

#include "segtrain/core/logging.h"
#include "segtrain/core/stop_signal.h"

namespace segtrain::engine {

void PreemptionHook::after_iter(const IterationState& s) {
  const int signal = world_.max(stop_signal());  // collective
  if (signal == 0) return;
  if (checkpointer_.last_saved_iter() != s.iter) checkpointer_.save_iteration(s);
  if (world_.is_main())
    log::warn(c10::str(signal_name(signal), " received: checkpoint of iteration ", s.iter, " written to ",
                       (checkpointer_.work_dir() / "latest.pth").string(), "; exiting with code ", kPreemptedExitCode,
                       ", continue with --auto-resume"));
  throw Preempted(signal, s.iter);
}

}  // namespace segtrain::engine
