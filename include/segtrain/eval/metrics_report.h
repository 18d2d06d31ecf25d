#pragma once
// How metrics are reported, as MMSeg does: the per-class table (Class | IoU | Acc, in percent)
// and the summary (aAcc | mIoU | mAcc) for the text log, and the same figures (fractions) as
// JSON keys aAcc, mIoU, mAcc, IoU.<class>, Acc.<class> (null where a class is absent).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "segtrain/eval/seg_metrics.h"

namespace segtrain::eval {

std::string metrics_table(const std::vector<std::string>& classes, const SegMetrics& m);
nlohmann::json metrics_json(const std::vector<std::string>& classes, const SegMetrics& m);
// The value of "aAcc", "mIoU" or "mAcc" (what save_best names).
double summary_metric(const SegMetrics& m, const std::string& name);

}  // namespace segtrain::eval
