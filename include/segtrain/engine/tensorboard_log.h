#pragma once
// log_config.hooks' TensorboardLoggerHook: the records of the JSON log as TensorBoard scalars,
// with MMCV's tags: "train/<loss or accuracy>" and "learning_rate" at each logged iteration,
// "val/<metric>" (aAcc, mIoU, mAcc, IoU.<class>, Acc.<class>) at each evaluation; time and
// data_time are left out, as MMCV leaves them out (its `momentum` tag is not written). The folder
// is the hook's log_dir, else
// <work_dir>/tf_logs.
#include <filesystem>

#include "segtrain/io/event_file.h"
#include "segtrain/io/record_sink.h"

namespace segtrain::engine {

class TensorboardLog : public io::RecordSink {
 public:
  explicit TensorboardLog(const std::filesystem::path& dir) : file_(dir) {}
  void write(const nlohmann::json& record) override;

 private:
  io::EventFile file_;
};

}  // namespace segtrain::engine
