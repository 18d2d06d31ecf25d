#pragma once
// checkpoint_config: every `interval` iterations (and at the end) iter_N.pth and latest.pth
// (checkpoint_writer.h). max_keep_ckpts > 0 removes the oldest iter_N.pth beyond that many.
// Collective (every rank waits for rank 0's write).
#include <deque>
#include <memory>

#include "segtrain/engine/checkpoint_writer.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class CheckpointHook : public Hook {
 public:
  CheckpointHook(int64_t interval, int max_keep, std::shared_ptr<CheckpointWriter> writer);
  void after_iter(Runner& r) override;

 private:
  int64_t interval_;
  int max_keep_;
  std::shared_ptr<CheckpointWriter> writer_;
  std::deque<std::filesystem::path> kept_;
};

}  // namespace segtrain::engine
