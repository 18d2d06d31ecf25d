#include "segtrain/engine/hooks/checkpoint_hook.h"

#include "segtrain/core/logging.h"

namespace segtrain::engine {

CheckpointHook::CheckpointHook(int64_t interval, int max_keep, std::shared_ptr<CheckpointWriter> writer)
    : interval_(interval), max_keep_(max_keep), writer_(std::move(writer)) {}

void CheckpointHook::after_iter(Runner& r) {
  if (!r.every(interval_)) return;
  const auto file = writer_->save_iteration(r);
  if (!r.parts().world->is_main()) return;
  log::info("Saving checkpoint at " + std::to_string(r.iter()) + " iterations");
  kept_.push_back(file);
  while (max_keep_ > 0 && static_cast<int>(kept_.size()) > max_keep_) {
    std::error_code ignored;
    std::filesystem::remove(kept_.front(), ignored);
    kept_.pop_front();
  }
}

}  // namespace segtrain::engine
