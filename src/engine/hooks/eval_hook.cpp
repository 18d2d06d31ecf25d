#include "segtrain/engine/hooks/eval_hook.h"

#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "segtrain/core/logging.h"
#include "segtrain/eval/metrics_report.h"
#include "segtrain/io/record_sink.h"

namespace segtrain::engine {

EvalHook::EvalHook(int64_t interval, std::function<eval::SegMetrics()> evaluate, std::vector<std::string> classes,
                   io::RecordSink* records, std::optional<SaveBest> save_best)
    : interval_(interval), evaluate_(std::move(evaluate)), classes_(std::move(classes)), records_(records),
      save_best_(std::move(save_best)) {}

void EvalHook::after_iter(const IterationState& s) {
  if (!s.every(interval_)) return;
  const auto m = evaluate_();  // collective
  last_miou_ = m.mIoU;
  log::info(eval::metrics_table(classes_, m));
  char line[160];
  std::snprintf(line, sizeof line, "Iter(val) [%lld]\taAcc: %.4f, mIoU: %.4f, mAcc: %.4f",
                static_cast<long long>(s.iter), m.aAcc, m.mIoU, m.mAcc);
  log::info(line);
  if (records_) {
    nlohmann::json json{{"mode", "val"}, {"epoch", 1}, {"iter", s.iter}};
    json.update(eval::metrics_json(classes_, m));
    records_->write(json);
  }
  if (!save_best_) return;
  const double score = eval::summary_metric(m, save_best_->metric);
  const auto best = save_best_->checkpointer.best_score();
  if (best && score <= *best) return;
  save_best_->checkpointer.save_best(save_best_->metric, score, s);  // collective
  log::info(c10::str("Now best checkpoint is saved as best_", save_best_->metric, "_iter_", s.iter, ".pth."));
  log::info(c10::str("Best ", save_best_->metric, " is ", score, " at ", s.iter, " iter."));
}

}  // namespace segtrain::engine
