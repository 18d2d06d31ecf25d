#pragma once
// evaluation: every `interval` iterations (and at the end) an evaluation pass over the val split
// (`evaluate`, collective); rank 0 logs MMSeg's per-class table and summary and a JSON line
// with "mode": "val". With save_best (mIoU, mAcc or aAcc) a better score writes
// best_<metric>_iter_N.pth and removes the previous best, as MMCV's EvalHook does; the best
// score travels in later checkpoints, so a resumed run keeps it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "segtrain/engine/checkpointer.h"
#include "segtrain/engine/runner.h"
#include "segtrain/eval/seg_metrics.h"

namespace segtrain::io { class RecordSink; }

namespace segtrain::engine {

struct SaveBest {
  std::string metric;  // mIoU, mAcc or aAcc
  Checkpointer& checkpointer;
};

class EvalHook : public Hook {
 public:
  // `records`: rank 0's, null elsewhere.
  EvalHook(int64_t interval, std::function<eval::SegMetrics()> evaluate, std::vector<std::string> classes,
           io::RecordSink* records, std::optional<SaveBest> save_best = {});
  void after_iter(const IterationState& s) override;
  double last_miou() const { return last_miou_; }

 private:
  int64_t interval_;
  std::function<eval::SegMetrics()> evaluate_;
  std::vector<std::string> classes_;
  io::RecordSink* records_;  // rank 0's (the JSON log, TensorBoard), null elsewhere
  std::optional<SaveBest> save_best_;
  double last_miou_ = 0;
};

}  // namespace segtrain::engine
