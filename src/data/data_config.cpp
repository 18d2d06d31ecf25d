#include "segtrain/data/data_config.h"

#include "segtrain/core/suggest.h"

namespace segtrain::data {
namespace {

// MMSeg's dataset class names; all of them read the same shards here.
const std::vector<std::string> kDatasetTypes = {"CityscapesDataset", "ADE20KDataset", "PascalVOCDataset",
                                                "CustomDataset", "SyntheticDataset"};

SplitConfig parse_split(const config::ConfigNode& node) {
  node.check_keys({"type", "data_root", "split", "pipeline"});
  SplitConfig s;
  s.type = node.get<std::string>("type");
  if (std::find(kDatasetTypes.begin(), kDatasetTypes.end(), s.type) == kDatasetTypes.end())
    throw node.at("type").error("unknown dataset type '" + s.type + "'" + did_you_mean(s.type, kDatasetTypes) +
                                "; valid types are " + quoted_list(kDatasetTypes));
  s.dir = std::filesystem::path(node.get<std::string>("data_root")) / node.get<std::string>("split");
  s.pipeline = Pipeline(node.at("pipeline"));
  return s;
}

int positive(const config::ConfigNode& data, const char* key, int fallback) {
  if (!data.has(key)) return fallback;
  int v = data.get<int>(key);
  if (v < (std::string(key) == "workers_per_gpu" ? 0 : 1)) throw data.at(key).error("must be positive");
  return v;
}

}  // namespace

DataConfig parse_data_config(const config::ConfigNode& data) {
  data.check_keys({"samples_per_gpu", "workers_per_gpu", "eval_samples_per_gpu", "train", "val", "test"});
  DataConfig c;
  c.samples_per_gpu = positive(data, "samples_per_gpu", c.samples_per_gpu);
  c.workers_per_gpu = positive(data, "workers_per_gpu", c.workers_per_gpu);
  c.eval_samples_per_gpu = positive(data, "eval_samples_per_gpu", c.eval_samples_per_gpu);
  if (data.has("train")) c.train = parse_split(data.at("train"));
  if (data.has("val")) c.val = parse_split(data.at("val"));
  if (data.has("test")) c.test = parse_split(data.at("test"));
  return c;
}

}  // namespace segtrain::data
