#include "segtrain/engine/tensorboard_log.h"

#include <set>
#include <string>

namespace segtrain::engine {

void TensorboardLog::write(const nlohmann::json& record) {
  if (!record.contains("mode") || !record.contains("iter")) return;  // the run's meta line
  const std::string mode = record["mode"].get<std::string>();
  const int64_t step = record["iter"].get<int64_t>();
  static const std::set<std::string> not_scalars = {"mode", "epoch", "iter", "time", "data_time", "memory", "interval_memory"};
  for (const auto& [key, value] : record.items()) {
    if (not_scalars.count(key) || !value.is_number()) continue;  // null: a class absent from the val set
    file_.add_scalar(key == "lr" ? "learning_rate" : mode + "/" + key, value.get<double>(), step);
  }
}

}  // namespace segtrain::engine
