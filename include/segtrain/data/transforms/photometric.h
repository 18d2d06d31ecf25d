#pragma once
// Photometric steps: they change pixel values, never the label.
#include <array>

#include "segtrain/data/transforms/transform.h"

namespace segtrain::data {

// MMSeg PhotoMetricDistortion, its order and defaults: brightness (delta 32), then contrast
// either first or last (0.5-1.5), saturation (0.5-1.5) and hue (delta 18) in cv2's uint8 HSV
// (H in [0, 180)); each applied with probability 1/2. Works on uint8 RGB.
class PhotoMetricDistortion : public Transform {
 public:
  PhotoMetricDistortion(double brightness_delta = 32, std::array<double, 2> contrast_range = {0.5, 1.5},
                        std::array<double, 2> saturation_range = {0.5, 1.5}, int hue_delta = 18);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "PhotoMetricDistortion"; }

 private:
  double brightness_;
  std::array<double, 2> contrast_, saturation_;
  int hue_;
};

// MMSeg Normalize: (x - mean) / std per channel, to float32. Shards hold RGB: with
// to_rgb: true mean/std are in RGB order (MMSeg's usual config); with to_rgb: false they are in
// BGR order and the channels are swapped to BGR first.
struct NormalizeParams {
  std::array<double, 3> mean, std;
  bool to_rgb = true;
};

// uint8 in: (v - mean[c]) / std[c] is a 256-entry table per channel, 3 x 256 float32 (computed
// in double, then rounded); the loader's workers and the device (data/device_batch.h) use it.
at::Tensor normalize_table(const NormalizeParams& n);

class Normalize : public Transform {
 public:
  explicit Normalize(NormalizeParams params);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "Normalize"; }
  const NormalizeParams& params() const { return p_; }

 private:
  NormalizeParams p_;
};

// cv2's uint8 colour conversions (H in [0, 180), S and V in [0, 255]), HxWx3 uint8 in and out.
at::Tensor rgb_to_hsv(const at::Tensor& rgb);
at::Tensor hsv_to_rgb(const at::Tensor& hsv);

}  // namespace segtrain::data
