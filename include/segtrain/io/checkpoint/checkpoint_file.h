#pragma once
// The .pth checkpoint file, in one place. What segtrain writes loads in Python with torch.load
// (plain dicts, lists, numbers, strings, tensors) and has MMCV's layout:
//   {'meta': {'iter': N, 'seed': s, 'config': ..., 'CLASSES': [...], 'PALETTE': [...], 'time': t,
//             'hook_msgs': {'best_score': x, 'best_ckpt': path}},
//    'state_dict': {name: tensor},
//    'optimizer': {'type': 'SGD' | 'AdamW', 'state': {param name: {...}}}  (optimizer_state.h;
//                 absent with checkpoint_config.save_optimizer: false),
//    'sampler': {'epoch': e, 'offset': o, 'world_size': w},  'rng': uint8 tensor (torch's CPU generator),
//    'cuda_rng': uint8 tensor (the CUDA generator of rank 0's GPU; absent for a CPU run)}
// Reading a file a user gave never ends in a c10::Error: a missing or mistyped entry is a
// one-line user error naming the file and the key.
#include <ATen/core/ivalue.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace segtrain::io {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;

// Where the training sampler's stream stands (data::TrainSampler::Position).
struct SamplerState {
  int64_t epoch = 0;
  int64_t offset = 0;       // per rank
  int64_t world_size = 0;   // of the run that saved it; 0 in files written before it was saved
};

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();  // holds "iter"
  StateDict state_dict;
  c10::IValue optimizer;                 // None when the optimizer was not saved
  std::optional<SamplerState> sampler;   // training checkpoints only
  at::Tensor rng;                        // undefined when absent
  at::Tensor cuda_rng;                   // undefined when absent
};

std::string encode_checkpoint(const Checkpoint& checkpoint);

// A checkpoint to resume from: meta.iter and state_dict must be there. sampler and rng are
// segtrain's (an MMCV checkpoint has neither: its run restarts the data order, as MMCV does);
// optimizer may be absent. `file` names the source in errors.
Checkpoint decode_checkpoint(const std::string& bytes, const std::string& file);

// The weights of any .pth: segtrain's or MMSeg's {'state_dict': {...}, ...}, or a plain dict of
// tensors (torchvision, torch.save(model.state_dict())). A leading `module.` is dropped.
StateDict decode_weights(const std::string& bytes, const std::string& file);
// The same, read from `file` by this process alone (collective reads: checkpoint_store.h).
StateDict read_weights(const std::filesystem::path& file);

}  // namespace segtrain::io
