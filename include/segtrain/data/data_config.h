#pragma once
// The `data` section of a config, MMSegmentation's keys:
//   data:
//     samples_per_gpu: 2        # batch size per rank
//     workers_per_gpu: 2        # loader threads per rank
//     eval_samples_per_gpu: 4   # evaluation batch per rank (MMSeg has a fixed 1)
//     train: {type: CityscapesDataset, data_root: data/cityscapes_shards, split: train, pipeline: [...]}
//     val:   {type: ..., data_root: ..., split: val, pipeline: [...]}
//     test:  {...}
// A split lives in <data_root>/<split>/ as written by scripts/convert_dataset.py.
#include <filesystem>
#include <optional>

#include "segtrain/config/config.h"
#include "segtrain/data/pipeline.h"

namespace segtrain::data {

struct SplitConfig {
  std::string type;
  std::filesystem::path dir;  // <data_root>/<split>
  Pipeline pipeline;
};

struct DataConfig {
  int samples_per_gpu = 2;
  int workers_per_gpu = 2;
  int eval_samples_per_gpu = 1;
  std::optional<SplitConfig> train, val, test;
};

// Checks keys and types and builds the pipelines; errors name the key.
DataConfig parse_data_config(const config::ConfigNode& data);

}  // namespace segtrain::data
