#include "segtrain/data/transforms/photometric.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace segtrain::data {
namespace {

uint8_t saturate(double v) { return static_cast<uint8_t>(std::clamp(std::round(v), 0.0, 255.0)); }

// MMSeg's convert(): img * alpha + beta, clipped to [0, 255], back to uint8 (truncation, as
// numpy's astype does after np.clip).
void convert(at::Tensor& img, double alpha, double beta) {
  img = (img.to(at::kFloat) * alpha + beta).clamp(0, 255).to(at::kByte);
}

}  // namespace

at::Tensor rgb_to_hsv(const at::Tensor& rgb) {
  at::Tensor src = rgb.contiguous();
  at::Tensor out = at::empty_like(src);
  const uint8_t* in = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t i = 0, n = src.numel() / 3; i < n; ++i) {
    const double r = in[3 * i], g = in[3 * i + 1], b = in[3 * i + 2];
    const double v = std::max({r, g, b}), diff = v - std::min({r, g, b});
    const double s = v == 0 ? 0 : diff * 255.0 / v;
    double h = 0;
    if (diff != 0) {
      if (v == r) h = 60.0 * (g - b) / diff;
      else if (v == g) h = 120.0 + 60.0 * (b - r) / diff;
      else h = 240.0 + 60.0 * (r - g) / diff;
      if (h < 0) h += 360;
    }
    int hh = static_cast<int>(std::round(h / 2));
    o[3 * i] = static_cast<uint8_t>(hh >= 180 ? hh - 180 : hh);
    o[3 * i + 1] = saturate(s);
    o[3 * i + 2] = saturate(v);
  }
  return out;
}

at::Tensor hsv_to_rgb(const at::Tensor& hsv) {
  at::Tensor src = hsv.contiguous();
  at::Tensor out = at::empty_like(src);
  const uint8_t* in = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t i = 0, n = src.numel() / 3; i < n; ++i) {
    const double h = in[3 * i] * 2.0 / 60.0, s = in[3 * i + 1] / 255.0, v = in[3 * i + 2];
    const int sector = static_cast<int>(std::floor(h)) % 6;
    const double f = h - std::floor(h);
    const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (sector) {
      case 0: r = v, g = t, b = p; break;
      case 1: r = q, g = v, b = p; break;
      case 2: r = p, g = v, b = t; break;
      case 3: r = p, g = q, b = v; break;
      case 4: r = t, g = p, b = v; break;
      default: r = v, g = p, b = q; break;
    }
    o[3 * i] = saturate(r);
    o[3 * i + 1] = saturate(g);
    o[3 * i + 2] = saturate(b);
  }
  return out;
}

PhotoMetricDistortion::PhotoMetricDistortion(double brightness_delta, std::array<double, 2> contrast_range,
                                             std::array<double, 2> saturation_range, int hue_delta)
    : brightness_(brightness_delta), contrast_(contrast_range), saturation_(saturation_range), hue_(hue_delta) {}

void PhotoMetricDistortion::apply(Sample& s, Rng& rng) const {
  at::Tensor img = s.image;
  if (randint(rng, 0, 2)) convert(img, 1, uniform(rng, -brightness_, brightness_));
  const bool contrast_first = randint(rng, 0, 2) == 1;
  auto contrast = [&] {
    if (randint(rng, 0, 2)) convert(img, uniform(rng, contrast_[0], contrast_[1]), 0);
  };
  if (contrast_first) contrast();
  if (randint(rng, 0, 2)) {
    at::Tensor hsv = rgb_to_hsv(img);
    at::Tensor sat = hsv.select(2, 1);
    convert(sat, uniform(rng, saturation_[0], saturation_[1]), 0);
    hsv.select(2, 1).copy_(sat);
    img = hsv_to_rgb(hsv);
  }
  if (randint(rng, 0, 2)) {
    at::Tensor hsv = rgb_to_hsv(img);
    const int64_t delta = randint(rng, -hue_, hue_);
    hsv.select(2, 0).copy_((hsv.select(2, 0).to(at::kInt) + delta).remainder(180).to(at::kByte));
    img = hsv_to_rgb(hsv);
  }
  if (!contrast_first) contrast();
  s.image = img.contiguous();
}

Normalize::Normalize(std::array<double, 3> mean, std::array<double, 3> std, bool to_rgb)
    : mean_(mean), std_(std), to_rgb_(to_rgb) {}

void Normalize::apply(Sample& s, Rng&) const {
  at::Tensor img = s.image.to(at::kFloat);
  if (!to_rgb_) img = img.flip({2});  // config's mean/std are BGR: work in BGR
  at::Tensor mean = at::tensor({mean_[0], mean_[1], mean_[2]}, at::kFloat);
  at::Tensor std = at::tensor({std_[0], std_[1], std_[2]}, at::kFloat);
  s.image = ((img - mean) / std).contiguous();
}

}  // namespace segtrain::data
