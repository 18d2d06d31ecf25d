#pragma once
// The steps segtrain and segtest share to turn a config into the parts of a run: the config
// itself, the model on this rank's device with its communicator, weights from a .pth, and the
// evaluation data of a split.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "segtrain/config/config.h"
#include "segtrain/data/data_config.h"
#include "segtrain/data/shard_dataset.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"
#include "segtrain/eval/evaluator.h"
#include "segtrain/models/segmentor.h"

namespace segtrain::engine {

// CONFIG with its _base_ chain and --options applied, validated. `warnings` are the overrides'
// (logged once the log is set up).
struct LoadedConfig {
  config::Config cfg;
  std::vector<std::string> warnings;
};
LoadedConfig load_config(const std::string& file, const std::vector<std::string>& options, bool validate = true);

struct ModelOnDevice {
  c10::Device device{c10::kCPU};
  std::shared_ptr<dist::Communicator> comm;  // serves SyncBN, the reducer and the metrics
  models::EncoderDecoder model{nullptr};
  bool channels_last = false;  // the config's channels_last: weights converted, batches to follow
};

// The config's model on this rank's device (dist/device.h), checked against the dataset's class
// count. Collective: every rank makes the communicator.
ModelOnDevice build_model(const config::Config& cfg, const dist::World& world, const data::ShardDataset& dataset,
                          const std::filesystem::path& dataset_dir);

// Weights by name from a .pth, read once on rank 0 and broadcast (collective). Lenient
// (--load-from, MMSeg's load_checkpoint with strict=False): missing, unexpected and mismatched
// keys are logged. Strict (segtest): every weight of the model must load.
void load_weights_from(models::EncoderDecoder& model, const dist::World& world, const std::filesystem::path& file,
                       bool strict);

// model.pretrained (or the backbone's init_cfg, models/pretrained.h) into the backbone. Collective:
// rank 0 reads the file and loads it; broadcast_module_state hands the weights to the others.
void load_pretrained_backbone(const config::Config& cfg, models::EncoderDecoder& model, const dist::World& world);

// An evaluation split's loader: `batch_size` samples per rank, the data section's workers.
eval::EvalData eval_data(std::shared_ptr<data::ShardDataset> dataset, const data::SplitConfig& split,
                         const data::DataConfig& data_cfg, const c10::Device& device, int batch_size,
                         uint64_t seed = 0);

}  // namespace segtrain::engine
