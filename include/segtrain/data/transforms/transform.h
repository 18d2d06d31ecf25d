#pragma once
// A data-pipeline step, MMSegmentation's names and parameters (see pipeline.h for the list).
// Steps run on one sample on a loader worker; all randomness comes from the sample's own
// generator, seeded from (seed, epoch, index), so results never depend on threads or workers.
#include <ATen/core/Tensor.h>

#include <array>
#include <memory>
#include <random>
#include <string>

namespace segtrain::data {

struct Sample {
  std::string name;
  at::Tensor image;  // H x W x 3: uint8 RGB until Normalize, float32 after
  at::Tensor label;  // H x W uint8 (255 = ignore); undefined in test pipelines
  std::array<int64_t, 2> ori_shape{0, 0};  // (H, W) as stored
  bool flipped = false;
};

using Rng = std::mt19937_64;

// Uniform draws as numpy's: uniform(lo, hi) and randint(lo, hi) (hi exclusive).
double uniform(Rng& rng, double lo, double hi);
int64_t randint(Rng& rng, int64_t lo, int64_t hi);

class Transform {
 public:
  virtual ~Transform() = default;
  virtual void apply(Sample& sample, Rng& rng) const = 0;
  virtual std::string name() const = 0;
};

}  // namespace segtrain::data
