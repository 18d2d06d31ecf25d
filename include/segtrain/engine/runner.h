#pragma once
// The iteration-based training loop (MMCV's IterBasedRunner), Detectron2-style: the loop is
// short, and everything else (lr schedule, logging, checkpoints, evaluation) is a hook called
// before and after the run and each iteration. Every rank runs the same loop; hooks that talk
// across ranks do so at the same iterations on every rank.
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segtrain/data/loader.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/reducer.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/lr_schedule.h"
#include "segtrain/engine/optimizer.h"
#include "segtrain/models/segmentor.h"

namespace segtrain::io { class JsonLog; }

namespace segtrain::engine {

class Runner;

class Hook {
 public:
  virtual ~Hook() = default;
  virtual void before_train(Runner&) {}
  virtual void before_iter(Runner&) {}
  virtual void after_iter(Runner&) {}
  virtual void after_train(Runner&) {}
};

struct RunnerParts {
  const dist::World* world = nullptr;
  std::shared_ptr<dist::Communicator> comm;
  models::EncoderDecoder model{nullptr};
  std::unique_ptr<dist::Reducer> reducer;
  Optimizer optimizer;
  LrSchedule schedule;
  std::unique_ptr<data::Loader> loader;
  c10::Device device{c10::kCPU};
  int64_t max_iters = 0;
  std::optional<double> grad_clip_max_norm;
  std::filesystem::path work_dir;
  int64_t start_iter = 0;                     // > 0 when resuming
  data::TrainSampler::Position start_position;  // the sampler position at start_iter
  io::JsonLog* json_log = nullptr;  // rank 0 only
};

class Runner {
 public:
  explicit Runner(RunnerParts parts);
  void add_hook(std::unique_ptr<Hook> hook);
  void run();

  RunnerParts& parts() { return parts_; }
  int64_t iter() const { return iter_; }  // iterations completed
  int64_t max_iters() const { return parts_.max_iters; }
  bool every(int64_t n) const { return n > 0 && (iter_ % n == 0 || iter_ == parts_.max_iters); }
  // This iteration's losses and accuracies (local to this rank) and timings.
  const std::map<std::string, double>& outputs() const { return outputs_; }
  double iter_seconds() const { return iter_seconds_; }
  double data_seconds() const { return data_seconds_; }
  double lr() const { return parts_.optimizer.lr(); }
  // Where the sampler stands after the last batch trained on (what a checkpoint saves).
  data::TrainSampler::Position sampler_position() const { return position_; }

 private:
  RunnerParts parts_;
  std::vector<std::unique_ptr<Hook>> hooks_;
  int64_t iter_ = 0;
  data::TrainSampler::Position position_;
  std::map<std::string, double> outputs_;
  double iter_seconds_ = 0, data_seconds_ = 0;
};

// The hook that sets each parameter group's learning rate before every iteration.
class LrHook : public Hook {
 public:
  void before_iter(Runner& r) override;
};

}  // namespace segtrain::engine
