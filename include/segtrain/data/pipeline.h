#pragma once
// A dataset's `train_pipeline` / `test_pipeline`, built from the config by MMSeg step name.
// Steps: Resize, RandomCrop, RandomFlip, PhotoMetricDistortion, Normalize, Pad, and
// MultiScaleFlipAug (its img_scale is given to the Resize steps inside it). MMSeg's file and
// formatting steps (LoadImageFromFile, LoadAnnotations, DefaultFormatBundle, ImageToTensor,
// Collect) are accepted and do nothing: shards hold decoded images and class-id labels.
// An unknown step or parameter is an error listing the valid ones.
#include <memory>
#include <vector>

#include "segtrain/config/config.h"
#include "segtrain/data/transforms/transform.h"

namespace segtrain::data {

class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(const config::ConfigNode& steps);
  void apply(Sample& sample, Rng& rng) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<const Transform>> steps_;
};

}  // namespace segtrain::data
