#include "segtrain/data/transforms/geometric.h"

#include <ATen/ATen.h>

#include <cmath>

#include "segtrain/core/error.h"

namespace segtrain::data {

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t randint(Rng& rng, int64_t lo, int64_t hi) {
  return hi <= lo ? lo : std::uniform_int_distribution<int64_t>(lo, hi - 1)(rng);
}

at::Tensor resize_image(const at::Tensor& image, int64_t h, int64_t w) {
  if (image.size(0) == h && image.size(1) == w) return image;
  at::Tensor x = image.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
  at::Tensor y = at::upsample_bilinear2d(x, {h, w}, /*align_corners=*/false);
  y = y.squeeze(0).permute({1, 2, 0});
  return image.scalar_type() == at::kByte ? y.round().clamp(0, 255).to(at::kByte).contiguous() : y.contiguous();
}

at::Tensor resize_label(const at::Tensor& label, int64_t h, int64_t w) {
  if (label.size(0) == h && label.size(1) == w) return label;
  // Nearest neighbour (src = floor(dst * in / out), as cv2.INTER_NEAREST): labels stay class ids.
  at::Tensor rows = (at::arange(h, at::kDouble) * (static_cast<double>(label.size(0)) / h)).floor().to(at::kLong);
  at::Tensor cols = (at::arange(w, at::kDouble) * (static_cast<double>(label.size(1)) / w)).floor().to(at::kLong);
  return label.index_select(0, rows.clamp_max(label.size(0) - 1)).index_select(1, cols.clamp_max(label.size(1) - 1)).contiguous();
}

Resize::Resize(std::array<int64_t, 2> img_scale, std::optional<std::array<double, 2>> ratio_range, bool keep_ratio)
    : scale_(img_scale), ratio_(ratio_range), keep_ratio_(keep_ratio) {}

std::array<int64_t, 2> Resize::rescaled_size(int64_t h, int64_t w, std::array<int64_t, 2> scale) {
  const double long_edge = std::max(scale[0], scale[1]), short_edge = std::min(scale[0], scale[1]);
  const double factor = std::min(long_edge / std::max(h, w), short_edge / std::min(h, w));
  return {static_cast<int64_t>(h * factor + 0.5), static_cast<int64_t>(w * factor + 0.5)};
}

void Resize::apply(Sample& s, Rng& rng) const {
  std::array<int64_t, 2> scale = scale_;
  if (ratio_) {
    const double r = uniform(rng, (*ratio_)[0], (*ratio_)[1]);
    scale = {static_cast<int64_t>(scale_[0] * r), static_cast<int64_t>(scale_[1] * r)};
  }
  // img_scale is (w, h), as in MMSeg; rescaled_size works in (h, w).
  const auto [h, w] = keep_ratio_ ? rescaled_size(s.image.size(0), s.image.size(1), scale)
                                  : std::array<int64_t, 2>{scale[1], scale[0]};
  s.image = resize_image(s.image, h, w);
  if (s.label.defined()) s.label = resize_label(s.label, h, w);
}

RandomCrop::RandomCrop(std::array<int64_t, 2> crop_size, double cat_max_ratio, int ignore_index)
    : size_(crop_size), cat_max_ratio_(cat_max_ratio), ignore_index_(ignore_index) {}

void RandomCrop::apply(Sample& s, Rng& rng) const {
  const int64_t h = s.image.size(0), w = s.image.size(1);
  const int64_t ch = std::min(size_[0], h), cw = std::min(size_[1], w);
  auto draw = [&] { return std::array<int64_t, 2>{randint(rng, 0, h - ch + 1), randint(rng, 0, w - cw + 1)}; };
  auto box = draw();
  if (cat_max_ratio_ < 1.0 && s.label.defined()) {
    for (int attempt = 0; attempt < 10; ++attempt) {  // MMSeg's 10 tries
      at::Tensor crop = s.label.narrow(0, box[0], ch).narrow(1, box[1], cw);
      at::Tensor counts = at::bincount(crop.flatten().to(at::kLong), {}, 256);
      counts[ignore_index_] = 0;
      at::Tensor present = counts.masked_select(counts > 0);
      if (present.numel() > 1 && present.max().item<double>() / present.sum().item<double>() < cat_max_ratio_) break;
      box = draw();
    }
  }
  s.image = s.image.narrow(0, box[0], ch).narrow(1, box[1], cw).contiguous();
  if (s.label.defined()) s.label = s.label.narrow(0, box[0], ch).narrow(1, box[1], cw).contiguous();
}

RandomFlip::RandomFlip(double prob) : prob_(prob) {}

void RandomFlip::apply(Sample& s, Rng& rng) const {
  if (prob_ <= 0 || uniform(rng, 0, 1) >= prob_) return;
  s.image = s.image.flip({1}).contiguous();
  if (s.label.defined()) s.label = s.label.flip({1}).contiguous();
  s.flipped = !s.flipped;
}

Pad::Pad(std::optional<std::array<int64_t, 2>> size, int64_t size_divisor, double pad_val, int seg_pad_val)
    : size_(size), divisor_(size_divisor), pad_val_(pad_val), seg_pad_val_(seg_pad_val) {}

void Pad::apply(Sample& s, Rng&) const {
  const int64_t h = s.image.size(0), w = s.image.size(1);
  int64_t th = h, tw = w;
  if (size_) {
    th = std::max(h, (*size_)[0]);
    tw = std::max(w, (*size_)[1]);
  } else if (divisor_ > 0) {
    th = (h + divisor_ - 1) / divisor_ * divisor_;
    tw = (w + divisor_ - 1) / divisor_ * divisor_;
  }
  if (th == h && tw == w) return;
  at::Tensor image = at::full({th, tw, 3}, pad_val_, s.image.options());
  image.narrow(0, 0, h).narrow(1, 0, w).copy_(s.image);
  s.image = image;
  if (s.label.defined()) {
    at::Tensor label = at::full({th, tw}, seg_pad_val_, s.label.options());
    label.narrow(0, 0, h).narrow(1, 0, w).copy_(s.label);
    s.label = label;
  }
}

}  // namespace segtrain::data
