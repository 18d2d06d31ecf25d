#pragma once
// Where rank 0's log records go: a record is one line of MMSeg's JSON log ({"mode": "train" or
// "val", "iter": N, losses or metrics...}; the run's meta line has no "mode"). The JSON log is
// one sink; log_config's TensorboardLoggerHook adds another.
#include <vector>

#include <nlohmann/json.hpp>

namespace segtrain::io {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void write(const nlohmann::json& record) = 0;
};

// Every record to each of several sinks, in the order they were added.
class RecordSinks : public RecordSink {
 public:
  void add(RecordSink* sink) { sinks_.push_back(sink); }
  bool empty() const { return sinks_.empty(); }
  void write(const nlohmann::json& record) override {
    for (auto* s : sinks_) s->write(record);
  }

 private:
  std::vector<RecordSink*> sinks_;
};

}  // namespace segtrain::io
