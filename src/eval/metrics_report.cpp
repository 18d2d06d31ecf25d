#include "segtrain/eval/metrics_report.h"

#include <c10/util/StringUtil.h>

#include <cmath>
#include <cstdio>

#include "segtrain/core/error.h"

namespace segtrain::eval {
namespace {

std::string percent(double v) { return std::isnan(v) ? std::string("nan") : c10::str(std::round(v * 10000) / 100); }

nlohmann::json number_or_null(double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); }

}  // namespace

std::string metrics_table(const std::vector<std::string>& classes, const SegMetrics& m) {
  const char* rule = "+------------------+-------+-------+\n";
  std::string table = std::string("per class results:\n") + rule + "|      Class       |  IoU  |  Acc  |\n" + rule;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    char row[160];
    std::snprintf(row, sizeof row, "| %16s | %5s | %5s |\n", classes[c].c_str(), percent(m.iou[c]).c_str(),
                  percent(m.acc[c]).c_str());
    table += row;
  }
  table += std::string(rule) + "Summary:\n+-------+-------+-------+\n|  aAcc |  mIoU |  mAcc |\n+-------+-------+-------+\n";
  char summary[128];
  std::snprintf(summary, sizeof summary, "| %5s | %5s | %5s |\n+-------+-------+-------+", percent(m.aAcc).c_str(),
                percent(m.mIoU).c_str(), percent(m.mAcc).c_str());
  return table + summary;
}

nlohmann::json metrics_json(const std::vector<std::string>& classes, const SegMetrics& m) {
  nlohmann::json json{{"aAcc", m.aAcc}, {"mIoU", m.mIoU}, {"mAcc", m.mAcc}};
  for (std::size_t c = 0; c < classes.size(); ++c) {
    json["IoU." + classes[c]] = number_or_null(m.iou[c]);
    json["Acc." + classes[c]] = number_or_null(m.acc[c]);
  }
  return json;
}

double summary_metric(const SegMetrics& m, const std::string& name) {
  if (name == "mIoU") return m.mIoU;
  if (name == "mAcc") return m.mAcc;
  if (name == "aAcc") return m.aAcc;
  throw user_error("evaluation.save_best", "unknown metric '" + name + "' (expected mIoU, mAcc, aAcc or auto)");
}

}  // namespace segtrain::eval
