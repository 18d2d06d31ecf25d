#pragma once
// A data-pipeline step, MMSegmentation's names and parameters (see pipeline.h for the list).
// Steps run on one sample on a loader worker; all randomness comes from the sample's own
// generator, seeded from (seed, epoch, index), so results never depend on threads or workers.
#include <ATen/core/Tensor.h>

#include <array>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace segtrain::data {

struct Sample {
  std::string name;
  at::Tensor image;  // H x W x 3: uint8 RGB until Normalize, float32 after
  at::Tensor label;  // H x W uint8 (255 = ignore); undefined in test pipelines
  std::array<int64_t, 2> ori_shape{0, 0};  // (H, W) as stored
  bool flipped = false;
  // A Resize not carried out yet, (H, W): RandomCrop then interpolates only the pixels of its
  // crop (a 512x1024 crop of a 2x-upscaled 1024x2048 image is 1/16 of the work). Steps that
  // do not declare accepts_pending() see the image resized in full first.
  std::optional<std::array<int64_t, 2>> pending_size;

  // (H, W) of the image as the pipeline sees it, pending resize included.
  std::array<int64_t, 2> size() const {
    return pending_size ? *pending_size : std::array<int64_t, 2>{image.size(0), image.size(1)};
  }
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
  // True for steps that handle Sample::pending_size themselves.
  virtual bool accepts_pending() const { return false; }
};

}  // namespace segtrain::data
