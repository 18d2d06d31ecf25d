#pragma once
// Geometric steps: they move image and label together (bilinear for images, nearest for labels).
#include <optional>
#include <vector>

#include "segtrain/data/transforms/transform.h"

namespace segtrain::data {

// MMSeg Resize: img_scale (w, h) [, ratio_range (lo, hi)], keep_ratio (default true). With
// keep_ratio the image is rescaled so its long edge fits max(scale) and its short edge
// min(scale) (mmcv.imrescale); a ratio draws scale * uniform(lo, hi) first.
class Resize : public Transform {
 public:
  Resize(std::array<int64_t, 2> img_scale, std::optional<std::array<double, 2>> ratio_range, bool keep_ratio);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "Resize"; }
  bool accepts_pending() const override { return true; }
  // The (H, W) a keep-ratio rescale of (h, w) to `scale` gives.
  static std::array<int64_t, 2> rescaled_size(int64_t h, int64_t w, std::array<int64_t, 2> scale);

 private:
  std::array<int64_t, 2> scale_;
  std::optional<std::array<double, 2>> ratio_;
  bool keep_ratio_;
};

// MMSeg RandomCrop: crop_size (h, w); with cat_max_ratio < 1, up to 10 draws until no single
// class (ignore excluded) covers cat_max_ratio of the crop.
class RandomCrop : public Transform {
 public:
  RandomCrop(std::array<int64_t, 2> crop_size, double cat_max_ratio, int ignore_index = 255);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "RandomCrop"; }
  bool accepts_pending() const override { return true; }

 private:
  std::array<int64_t, 2> size_;
  double cat_max_ratio_;
  int ignore_index_;
};

// MMSeg RandomFlip: horizontal flip with probability prob.
class RandomFlip : public Transform {
 public:
  explicit RandomFlip(double prob);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "RandomFlip"; }

 private:
  double prob_;
};

// MMSeg Pad: to size (h, w) or to a multiple of size_divisor, bottom/right, with pad_val for
// the image and seg_pad_val for the label.
class Pad : public Transform {
 public:
  Pad(std::optional<std::array<int64_t, 2>> size, int64_t size_divisor, double pad_val, int seg_pad_val);
  void apply(Sample& s, Rng& rng) const override;
  std::string name() const override { return "Pad"; }
  double pad_val() const { return pad_val_; }

 private:
  std::optional<std::array<int64_t, 2>> size_;
  int64_t divisor_;
  double pad_val_;
  int seg_pad_val_;
};

// The window [y0, y0+h) x [x0, x0+w) of `image` (H x W x C uint8, any strides) resized to
// `full` = (H', W'): bilinear with half-pixel centres and edge clamping, as cv2.INTER_LINEAR.
at::Tensor resize_window(const at::Tensor& image, std::array<int64_t, 2> full, int64_t y0, int64_t x0, int64_t h,
                         int64_t w);
// The same window of a label (H x W uint8) resized by nearest neighbour (src = floor(dst * in /
// out), as cv2.INTER_NEAREST): labels stay class ids.
at::Tensor label_window(const at::Tensor& label, std::array<int64_t, 2> full, int64_t y0, int64_t x0, int64_t h,
                        int64_t w);
// Carries out a pending Resize on the whole image and label.
void materialize(Sample& s);

}  // namespace segtrain::data
