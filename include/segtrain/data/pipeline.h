#pragma once
// A dataset's `train_pipeline` / `test_pipeline`, built from the config by MMSeg step name.
// Steps: Resize, RandomCrop, RandomFlip, PhotoMetricDistortion, Normalize, Pad, and
// MultiScaleFlipAug (its img_scale is given to the Resize steps inside it). MMSeg's file and
// formatting steps (LoadImageFromFile, LoadAnnotations, DefaultFormatBundle, ImageToTensor,
// Collect) are accepted and do nothing: shards hold decoded images and class-id labels.
// An unknown step or parameter is an error listing the valid ones.
#include <memory>
#include <optional>
#include <vector>

#include "segtrain/config/config.h"
#include "segtrain/data/transforms/photometric.h"
#include "segtrain/data/transforms/transform.h"

namespace segtrain::data {

class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(const config::ConfigNode& steps);
  void apply(Sample& sample, Rng& rng) const;
  std::vector<std::string> names() const;

  // The pipeline cut around its Normalize, for a loader that leaves Normalize to the training
  // device (data/device_batch.h): `before` ends with the image still uint8; `pads` are the
  // steps after Normalize, Pads with pad_val 0 only, so the device can rebuild their padding as
  // zeros. nullopt when the pipeline has no such shape (no Normalize, two of them, or another
  // step after it): its loader normalizes on the host as before.
  struct NormalizeSplit {
    std::shared_ptr<const Pipeline> before, pads;
    NormalizeParams normalize;
  };
  std::optional<NormalizeSplit> split_at_normalize() const;

 private:
  std::vector<std::shared_ptr<const Transform>> steps_;
};

}  // namespace segtrain::data
