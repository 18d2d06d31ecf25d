#pragma once
// Batches for one rank, prepared ahead by worker threads (`workers_per_gpu`).
//  - Batch k is always made of the same samples with the same random draws, whatever the
//    number of workers or their timing: indices come from the sampler in batch order, and each
//    sample's generator is seeded from (seed, epoch, index).
//  - At most `prefetch` batches wait ready or in progress: memory stays bounded.
//  - Workers read raw chunks under the HDF5 lock and decode and transform outside it.
//  - Batches are contiguous NCHW float32 images and int64 labels, in pinned memory when asked
//    (CUDA), ready for a non-blocking copy to the device. With `normalize_on_device` a training
//    loader whose pipeline allows it (Pipeline::split_at_normalize) hands out NHWC uint8 images
//    and uint8 labels instead, a quarter and an eighth of the bytes to copy, and leaves
//    Normalize to the device (data/device_batch.h).
#include <ATen/core/Tensor.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "segtrain/data/pipeline.h"
#include "segtrain/data/sampler.h"
#include "segtrain/data/shard_dataset.h"

namespace segtrain::data {

struct Batch {
  at::Tensor images;  // N x 3 x H x W float32, or N x H x W x 3 uint8 when `normalize` is set
  at::Tensor labels;  // train: N x H x W int64 (uint8 when `normalize` is set), 255 = ignore; eval: undefined, see gt
  // Set when Normalize is left to the device: its parameters, and each sample's (H, W) before
  // the pipeline's Pads (what lies outside is padding, 0 once normalized).
  std::optional<NormalizeParams> normalize;
  std::vector<std::array<int64_t, 2>> valid_shapes;
  std::vector<at::Tensor> gt;  // eval: each sample's label at its stored size (H x W uint8)
  std::vector<std::array<int64_t, 2>> img_shapes;  // eval: (H, W) of each image before padding
  std::vector<std::string> names;
  std::vector<std::size_t> indices;
  TrainSampler::Position position_after{};  // train: the sampler position after this batch
};

struct LoaderOptions {
  int batch_size = 2;
  int workers = 2;
  int prefetch = 4;  // batches ready or in progress at most
  uint64_t seed = 0;
  bool pin_memory = false;
  bool normalize_on_device = false;  // training loaders: see the header's comment
};

class Loader {
 public:
  // The endless training stream of this rank.
  static std::unique_ptr<Loader> train(std::shared_ptr<ShardDataset> dataset, Pipeline pipeline,
                                       TrainSampler sampler, LoaderOptions options);
  // Every sample of `indices` once, in order; batches padded to their largest image.
  static std::unique_ptr<Loader> eval(std::shared_ptr<ShardDataset> dataset, Pipeline pipeline,
                                      std::vector<std::size_t> indices, LoaderOptions options);
  ~Loader();

  // The next batch; nullopt when an evaluation loader is done. Rethrows a worker's error.
  std::optional<Batch> next();

  struct Impl;

 private:
  explicit Loader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads and transforms one sample (what a worker does), for tests and benchmarks.
Sample load_sample(const ShardDataset& dataset, const Pipeline& pipeline, std::size_t index, uint64_t seed,
                   int64_t epoch, bool with_label);
// The transform half of load_sample, for a sample already read.
Sample transform_sample(RawSample raw, const Pipeline& pipeline, std::size_t index, uint64_t seed, int64_t epoch,
                        bool with_label);

}  // namespace segtrain::data
