#pragma once
// The run's side of checkpoints: what a checkpoint holds of this run and putting it back.
// A save holds the weights, the optimizer state unless checkpoint_config.save_optimizer is
// false, the sampler position, torch's CPU generator and the run's meta with the iteration and
// `hook_msgs` (MMCV's place for the best score). Files, formats and retention are
// io/checkpoint/'s. Every call is collective.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "segtrain/engine/loss_scaler.h"
#include "segtrain/engine/optimizer.h"
#include "segtrain/engine/runner.h"
#include "segtrain/io/checkpoint/checkpoint_store.h"

namespace segtrain::io { struct Checkpoint; }

namespace segtrain::engine {

// Where a resumed run continues.
struct ResumePoint {
  int64_t iter = 0;
  data::TrainSampler::Position position;  // per rank, of a run on `world_size` ranks
  int world_size = 1;
  std::optional<uint64_t> seed;  // the run's seed, when the checkpoint has one
};

class Checkpointer {
 public:
  // `device`: the model's, whose generator the checkpoints carry.
  Checkpointer(const dist::World& world, io::CheckpointStore store, models::EncoderDecoder model, c10::Device device,
               Optimizer& optimizer, nlohmann::json meta, bool save_optimizer);

  // iter_N.pth and latest.pth of this iteration.
  std::filesystem::path save_iteration(const IterationState& s);
  // save_best: best_<metric>_iter_N.pth, replacing the previous best file; the score and file
  // travel in later checkpoints' hook_msgs.
  void save_best(const std::string& metric, double score, const IterationState& s);
  std::optional<double> best_score() const;
  // float16's loss scaler (or null): its state travels in meta.fp16.loss_scaler, as MMCV's.
  void set_loss_scaler(LossScaler* scaler) { loss_scaler_ = scaler; }
  // What every checkpoint's meta carries besides iter, time and hook_msgs.
  nlohmann::json& meta() { return meta_; }
  int64_t last_saved_iter() const { return last_saved_iter_; }
  const std::filesystem::path& work_dir() const { return store_.work_dir(); }

  // --auto-resume: the newest checkpoint of the work_dir that decodes, if any.
  std::optional<std::filesystem::path> find_resumable() const;
  // Puts `file`'s weights (every key must match), optimizer state (a fresh optimizer, logged,
  // when the file has none), generators, loss scale and hook_msgs back. Rank 0 reads the file once.
  ResumePoint resume(const std::filesystem::path& file);

 private:
  std::string encode(const IterationState& s) const;
  c10::IValue named_optimizer_state(const io::Checkpoint& c, const std::string& where) const;
  const dist::World& world_;
  io::CheckpointStore store_;
  models::EncoderDecoder model_;
  c10::Device device_;
  Optimizer& optimizer_;
  LossScaler* loss_scaler_ = nullptr;
  nlohmann::json meta_;
  nlohmann::json hook_msgs_ = nlohmann::json::object();
  bool save_optimizer_;
  int64_t last_saved_iter_ = -1;
};

}  // namespace segtrain::engine
