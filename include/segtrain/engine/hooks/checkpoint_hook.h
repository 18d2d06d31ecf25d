#pragma once
// checkpoint_config: every `interval` iterations (and at the end) rank 0 writes iter_N.pth and
// then latest.pth, each atomically (temp file, fsync, rename): latest changes only after the
// new checkpoint is complete. max_keep_ckpts > 0 removes the oldest iter_N.pth beyond that
// many. The content is training_state.h's (weights, and unless save_optimizer is false the
// optimizer, sampler position and generator, for --resume-from); it loads in Python with
// torch.load. Collective (every rank waits for rank 0's write).
#include <deque>
#include <nlohmann/json.hpp>

#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class CheckpointHook : public Hook {
 public:
  // `meta`: what every checkpoint carries besides the iteration (config text, seed, classes...).
  CheckpointHook(int64_t interval, int max_keep, bool save_optimizer, nlohmann::json meta);
  void after_iter(Runner& r) override;

 private:
  int64_t interval_;
  int max_keep_;
  bool save_optimizer_;
  nlohmann::json meta_;
  std::deque<std::filesystem::path> kept_;
};

}  // namespace segtrain::engine
