#include "segtrain/engine/hooks/preemption_hook.h"

#include <c10/util/StringUtil.h>

#include "segtrain/core/logging.h"
#include "segtrain/core/stop_signal.h"

namespace segtrain::engine {

void PreemptionHook::after_iter(Runner& r) {
  const int signal = r.parts().world->max(stop_signal());  // collective
  if (signal == 0) return;
  if (writer_->last_saved_iter() != r.iter()) writer_->save_iteration(r);
  if (r.parts().world->is_main())
    log::warn(c10::str(signal_name(signal), " received: checkpoint of iteration ", r.iter(), " written to ",
                     (r.parts().work_dir / "latest.pth").string(), "; exiting with code ", kPreemptedExitCode,
                     ", continue with --auto-resume"));
  throw Preempted(signal, r.iter());
}

}  // namespace segtrain::engine
