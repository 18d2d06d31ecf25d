#pragma once
// Writes the run's checkpoints for the hooks that save one: the periodic CheckpointHook, the
// EvalHook's save_best and the PreemptionHook. Content: training_state.h's (weights, and unless
// save_optimizer is false the optimizer, sampler position and generator), the run's meta plus
// the time, the iteration and `hook_msgs` (MMCV's place for the best score). Collective: rank 0
// serializes and writes atomically (temp file, fsync, rename) while the other ranks wait.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class CheckpointWriter {
 public:
  CheckpointWriter(nlohmann::json meta, bool save_optimizer);
  // iter_N.pth of the current iteration, then latest.pth: latest changes only once the new
  // checkpoint is complete. Returns iter_N.pth's path.
  std::filesystem::path save_iteration(Runner& r);
  // Any other file name in the work_dir (e.g. best_mIoU_iter_N.pth).
  std::filesystem::path save_as(Runner& r, const std::string& name);
  int64_t last_saved_iter() const { return last_saved_iter_; }
  // Carried in every later checkpoint's meta, so that a resumed run knows the best score.
  nlohmann::json& hook_msgs() { return hook_msgs_; }

 private:
  std::string serialize(Runner& r) const;
  nlohmann::json meta_;
  nlohmann::json hook_msgs_ = nlohmann::json::object();
  bool save_optimizer_;
  int64_t last_saved_iter_ = -1;
};

}  // namespace segtrain::engine
