#pragma once
// Everything a checkpoint holds so that --resume-from continues exactly where a run stopped:
//   {'meta': {..., 'iter': N}, 'state_dict': {name: tensor},
//    'optimizer': {'type': 'SGD', 'state': {param name: {'momentum_buffer': t} | {'step', 'exp_avg', ...}}},
//    'sampler': {'epoch': e, 'offset': o}, 'rng': uint8 tensor (torch's CPU generator)}
// The sampler position is the same on every rank (every rank has consumed the same number of
// batches of equal-length streams); the generator state too (same seed, same ops).
// The file loads in Python with torch.load (plain dicts, lists, ints, strings, tensors).
#include <torch/nn/module.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "segtrain/data/sampler.h"
#include "segtrain/engine/optimizer.h"

namespace segtrain::engine {

struct TrainingState {
  int64_t iter = 0;
  data::TrainSampler::Position sampler;
  std::optional<uint64_t> seed;  // the run's seed, read back when resuming
  nlohmann::json hook_msgs = nlohmann::json::object();  // best_score, best_ckpt (save_best)
};

std::string serialize_checkpoint(const torch::nn::Module& model, const nlohmann::json& meta,
                                 const Optimizer* optimizer, const TrainingState& state);

// Restores weights (all keys must match), optimizer state and the generator from checkpoint
// bytes; returns the iteration and sampler position to continue from. Errors name `where`.
TrainingState restore_checkpoint(const std::string& bytes, const std::string& where, torch::nn::Module& model,
                                 Optimizer& optimizer);

// --auto-resume: latest.pth if it loads, else the highest iter_N.pth that loads; nullopt when
// the work_dir has none. Damaged files are reported through `warn` and skipped.
std::optional<std::filesystem::path> find_resume_checkpoint(const std::filesystem::path& work_dir,
                                                            const std::function<void(const std::string&)>& warn);

}  // namespace segtrain::engine
