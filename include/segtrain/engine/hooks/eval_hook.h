#pragma once
// evaluation: every `interval` iterations (and at the end) an evaluation pass over the val split
// (eval/evaluator.h, collective); rank 0 logs MMSeg's per-class table and summary and a JSON
// line with "mode": "val". With save_best (mIoU, mAcc, aAcc, or auto = mIoU) a better score
// writes best_<metric>_iter_N.pth and removes the previous best, as MMCV's EvalHook does; the
// best score travels in later checkpoints (hook_msgs), so a resumed run keeps it.
#include <memory>
#include <optional>

#include "segtrain/engine/checkpoint_writer.h"
#include "segtrain/engine/runner.h"
#include "segtrain/eval/evaluator.h"

namespace segtrain::engine {

struct SaveBest {
  std::string metric;  // mIoU, mAcc or aAcc
  std::shared_ptr<CheckpointWriter> writer;  // its hook_msgs hold the best so far (resumed too)
};

class EvalHook : public Hook {
 public:
  EvalHook(int64_t interval, eval::EvalData data, std::optional<SaveBest> save_best = {});
  void after_iter(Runner& r) override;
  double last_miou() const { return last_miou_; }

 private:
  void update_best(Runner& r, const eval::SegMetrics& m);
  int64_t interval_;
  eval::EvalData data_;
  std::optional<SaveBest> save_best_;
  std::filesystem::path best_file_;
  double last_miou_ = 0;
};

}  // namespace segtrain::engine
