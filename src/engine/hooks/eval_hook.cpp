#include "segtrain/engine/hooks/eval_hook.h"

#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "segtrain/core/logging.h"
#include "segtrain/eval/metrics_report.h"
#include "segtrain/io/json_log.h"

namespace segtrain::engine {

EvalHook::EvalHook(int64_t interval, eval::EvalData data, std::optional<SaveBest> save_best)
    : interval_(interval), data_(std::move(data)), save_best_(std::move(save_best)) {
  if (save_best_ && save_best_->writer->hook_msgs().contains("best_ckpt"))
    best_file_ = save_best_->writer->hook_msgs()["best_ckpt"].get<std::string>();
}

void EvalHook::after_iter(Runner& r) {
  if (!r.every(interval_)) return;
  auto& p = r.parts();
  const auto m = eval::evaluate(p.model, data_, *p.world, *p.comm, p.device);  // collective
  last_miou_ = m.mIoU;
  if (p.world->is_main()) {
    const auto& classes = data_.dataset->info().classes;
    log::info(eval::metrics_table(classes, m));
    char line[160];
    std::snprintf(line, sizeof line, "Iter(val) [%lld]\taAcc: %.4f, mIoU: %.4f, mAcc: %.4f",
                  static_cast<long long>(r.iter()), m.aAcc, m.mIoU, m.mAcc);
    log::info(line);
    nlohmann::json json{{"mode", "val"}, {"epoch", 1}, {"iter", r.iter()}};
    json.update(eval::metrics_json(classes, m));
    if (p.json_log) p.json_log->write(json);
  }
  if (save_best_) update_best(r, m);
}

void EvalHook::update_best(Runner& r, const eval::SegMetrics& m) {
  auto& msgs = save_best_->writer->hook_msgs();
  const double score = eval::summary_metric(m, save_best_->metric);
  if (msgs.contains("best_score") && score <= msgs["best_score"].get<double>()) return;
  const std::string name = c10::str("best_", save_best_->metric, "_iter_", r.iter(), ".pth");
  msgs["best_score"] = score;
  msgs["best_ckpt"] = (r.parts().work_dir / name).string();
  save_best_->writer->save_as(r, name);  // collective
  if (!r.parts().world->is_main()) return;
  if (!best_file_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(best_file_, ignored);
  }
  best_file_ = r.parts().work_dir / name;
  log::info("Now best checkpoint is saved as " + name + ".");
  log::info(c10::str("Best ", save_best_->metric, " is ", score, " at ", r.iter(), " iter."));
}

}  // namespace segtrain::engine
