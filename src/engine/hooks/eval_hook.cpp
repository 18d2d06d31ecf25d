#include "segtrain/engine/hooks/eval_hook.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "segtrain/core/logging.h"
#include "segtrain/eval/seg_metrics.h"
#include "segtrain/io/json_log.h"
#include "segtrain/models/conv_module.h"

namespace segtrain::engine {

EvalHook::EvalHook(int64_t interval, std::shared_ptr<data::ShardDataset> dataset, data::Pipeline pipeline,
                   data::LoaderOptions options)
    : interval_(interval), dataset_(std::move(dataset)), pipeline_(std::move(pipeline)), options_(options) {}

void EvalHook::after_iter(Runner& r) {
  if (!r.every(interval_)) return;
  auto& p = r.parts();
  const auto& classes = dataset_->info().classes;
  eval::SegHistogram hist(static_cast<int64_t>(classes.size()));
  p.model->eval();
  {
    torch::NoGradGuard no_grad;
    auto loader = data::Loader::eval(dataset_, pipeline_,
                                     data::eval_indices(dataset_->size(), p.world->rank(), p.world->size()), options_);
    while (auto batch = loader->next()) {
      torch::Tensor logits = p.model->inference(batch->images.to(p.device));
      for (std::size_t i = 0; i < batch->gt.size(); ++i) {
        const auto [h, w] = batch->img_shapes[i];
        torch::Tensor one = logits[i].unsqueeze(0).narrow(2, 0, h).narrow(3, 0, w);
        const auto& gt = batch->gt[i];
        one = models::resize(one, {gt.size(0), gt.size(1)}, p.model->decode_head->options().align_corners);
        hist.add(one.argmax(1)[0].cpu(), gt);
      }
    }
  }
  hist.reduce(*p.comm);  // collective
  const auto m = hist.metrics();
  last_miou_ = m.mIoU;
  if (!p.world->is_main()) return;
  auto pct = [](double v) { return std::isnan(v) ? std::string("nan") : c10::str(std::round(v * 10000) / 100); };
  std::string table = "per class results:\n+------------------+-------+-------+\n|      Class       |  IoU  |  Acc  |\n"
                      "+------------------+-------+-------+\n";
  nlohmann::json json{{"mode", "val"}, {"epoch", 1}, {"iter", r.iter()}};
  for (std::size_t c = 0; c < classes.size(); ++c) {
    char row[128];
    std::snprintf(row, sizeof row, "| %16s | %5s | %5s |\n", classes[c].c_str(), pct(m.iou[c]).c_str(), pct(m.acc[c]).c_str());
    table += row;
    json["IoU." + classes[c]] = std::isnan(m.iou[c]) ? nlohmann::json() : nlohmann::json(m.iou[c]);
    json["Acc." + classes[c]] = std::isnan(m.acc[c]) ? nlohmann::json() : nlohmann::json(m.acc[c]);
  }
  table += "+------------------+-------+-------+\nSummary:\n+-------+-------+-------+\n|  aAcc |  mIoU |  mAcc |\n"
           "+-------+-------+-------+\n";
  char summary[128];
  std::snprintf(summary, sizeof summary, "| %5s | %5s | %5s |\n+-------+-------+-------+", pct(m.aAcc).c_str(),
                pct(m.mIoU).c_str(), pct(m.mAcc).c_str());
  log::info(table + summary);
  char line[160];
  std::snprintf(line, sizeof line, "Iter(val) [%lld]\taAcc: %.4f, mIoU: %.4f, mAcc: %.4f",
                static_cast<long long>(r.iter()), m.aAcc, m.mIoU, m.mAcc);
  log::info(line);
  json["aAcc"] = m.aAcc;
  json["mIoU"] = m.mIoU;
  json["mAcc"] = m.mAcc;
  if (p.json_log) p.json_log->write(json);
}

}  // namespace segtrain::engine
