#include "segtrain/engine/hooks/checkpoint_hook.h"

#include "segtrain/core/logging.h"
#include "segtrain/dist/checkpoint_sync.h"
#include "segtrain/engine/training_state.h"

namespace segtrain::engine {
CheckpointHook::CheckpointHook(int64_t interval, int max_keep, bool save_optimizer, nlohmann::json meta)
    : interval_(interval), max_keep_(max_keep), save_optimizer_(save_optimizer), meta_(std::move(meta)) {}

void CheckpointHook::after_iter(Runner& r) {
  if (!r.every(interval_)) return;
  auto& p = r.parts();
  nlohmann::json meta = meta_;
  meta["time"] = static_cast<int64_t>(std::time(nullptr));
  const auto file = p.work_dir / ("iter_" + std::to_string(r.iter()) + ".pth");
  std::string bytes;
  if (p.world->is_main())
    bytes = serialize_checkpoint(*p.model, meta, save_optimizer_ ? &p.optimizer : nullptr,
                                 TrainingState{r.iter(), r.sampler_position()});
  dist::save_on_main(*p.world, file, [&] { return bytes; });
  dist::save_on_main(*p.world, p.work_dir / "latest.pth", [&] { return bytes; });
  if (p.world->is_main()) {
    log::info("Saving checkpoint at " + std::to_string(r.iter()) + " iterations");
    kept_.push_back(file);
    while (max_keep_ > 0 && static_cast<int>(kept_.size()) > max_keep_) {
      std::error_code ignored;
      std::filesystem::remove(kept_.front(), ignored);
      kept_.pop_front();
    }
  }
}

}  // namespace segtrain::engine
