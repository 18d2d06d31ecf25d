#pragma once
// evaluation: every `interval` iterations (and at the end) every rank predicts its share of the
// val split (each sample exactly once across ranks, `eval_samples_per_gpu` at a time), at the
// stored label resolution; the class histograms are summed over ranks (collective) and rank 0
// logs MMSeg's per-class table and summary, and a JSON line with "mode": "val".
#include <memory>

#include "segtrain/data/data_config.h"
#include "segtrain/data/shard_dataset.h"
#include "segtrain/engine/runner.h"

namespace segtrain::engine {

class EvalHook : public Hook {
 public:
  EvalHook(int64_t interval, std::shared_ptr<data::ShardDataset> dataset, data::Pipeline pipeline,
           data::LoaderOptions options);
  void after_iter(Runner& r) override;
  double last_miou() const { return last_miou_; }

 private:
  int64_t interval_;
  std::shared_ptr<data::ShardDataset> dataset_;
  data::Pipeline pipeline_;
  data::LoaderOptions options_;
  double last_miou_ = 0;
};

}  // namespace segtrain::engine
