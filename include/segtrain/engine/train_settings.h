#pragma once
// What a training config's run-time keys and segtrain's flags mean, read once and checked before
// anything runs (MMSeg's tools/train.py reads the same keys):
//   runner.max_iters, lr_config, log_config.{interval, hooks}, optimizer_config.grad_clip.max_norm,
//   checkpoint_config.{interval, max_keep_ckpts, save_optimizer} (else runner's),
//   evaluation.{interval, save_best}, cudnn_benchmark, find_unused_parameters, bucket_cap_mb, comm_hook,
//   seed, work_dir,
//   load_from and resume_from (the flags win over the config).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "segtrain/engine/lr_schedule.h"
#include "segtrain/engine/run_options.h"

namespace segtrain::config { class Config; }

namespace segtrain::engine {

struct TrainSettings {
  std::filesystem::path work_dir;  // --work-dir, else the config's, else work_dirs/<config stem>
  int64_t max_iters = 0;
  LrSchedule schedule;
  int64_t log_interval = 50;
  std::optional<std::filesystem::path> tensorboard_dir;  // log_config.hooks has TensorboardLoggerHook
  std::optional<double> grad_clip_max_norm;
  int64_t checkpoint_interval = 0;  // default: max_iters
  int max_keep_ckpts = -1;
  bool save_optimizer = true;
  bool validate = true;               // not --no-validate
  int64_t eval_interval = 0;          // default: max_iters
  std::optional<std::string> save_best;  // mIoU, mAcc or aAcc (`auto` means mIoU)
  bool cudnn_benchmark = false;       // off with --deterministic, as MMCV does
  bool deterministic = false;
  bool find_unused_parameters = false;
  double bucket_cap_mb = 25;          // the reducer's bucket size (DDP's bucket_cap_mb)
  std::string comm_hook;              // "", "fp16_compress" or "bf16_compress" (DDP's hooks)
  std::optional<uint64_t> seed;       // --seed, else the config's; none: drawn on rank 0
  std::optional<std::filesystem::path> load_from, resume_from;  // checked to exist
  bool auto_resume = false;
};

// A user error naming the key or flag when a value is wrong or a given file does not exist.
TrainSettings read_train_settings(const config::Config& cfg, const TrainOptions& options);

}  // namespace segtrain::engine
