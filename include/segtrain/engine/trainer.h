#pragma once
// segtrain's run: MMSeg's tools/train.py + apis/train.py, Detectron2's DefaultTrainer. The
// constructor turns the config and the command line into the parts of a run, in this order:
// settings and data checked, seed, model on the device and its communicator, optimizer,
// load_from or resume; only then the work_dir and its logs (rank 0; a mistake found before
// leaves an existing work_dir as it was), rank 0's weights everywhere, gradient reducer,
// loader, runner and hooks. train() runs it. Both are collective.
#include <memory>
#include <optional>

#include "segtrain/config/config.h"
#include "segtrain/data/data_config.h"
#include "segtrain/dist/reducer.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/checkpointer.h"
#include "segtrain/engine/hooks/eval_hook.h"
#include "segtrain/engine/run_parts.h"
#include "segtrain/engine/runner.h"
#include "segtrain/engine/tensorboard_log.h"
#include "segtrain/engine/train_settings.h"
#include "segtrain/io/json_log.h"

namespace segtrain::engine {

class Trainer {
 public:
  Trainer(const TrainOptions& options, dist::World& world);
  void train();

 private:
  void open_work_dir();
  ResumePoint load_or_resume();
  void add_hooks();

  dist::World& world_;
  LoadedConfig loaded_;
  const config::Config& cfg_;
  TrainSettings settings_;
  data::DataConfig data_cfg_;
  std::shared_ptr<data::ShardDataset> train_set_, val_set_;
  uint64_t seed_ = 0;
  ModelOnDevice parts_;
  Optimizer optimizer_;
  Precision precision_;
  std::unique_ptr<LossScaler> loss_scaler_;  // float16 only
  std::optional<io::JsonLog> json_log_;  // rank 0
  std::optional<TensorboardLog> tensorboard_log_;  // rank 0, when log_config asks for it
  io::RecordSinks records_;                        // rank 0: the two above
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<dist::Reducer> reducer_;
  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<Runner> runner_;
  EvalHook* eval_hook_ = nullptr;
};

// --print-config: the merged tree, unvalidated, as MMSeg's tools/print_config.py (rank 0).
void print_config(const TrainOptions& options, const dist::World& world);

}  // namespace segtrain::engine
