#include "segtrain/data/transforms/photometric.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace segtrain::data {
namespace {

inline uint8_t saturate(float v) { return static_cast<uint8_t>(v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5f); }

// MMSeg's convert(): img * alpha + beta, clipped to [0, 255], back to uint8 (truncation, as
// numpy's astype after np.clip). Constant per image, so one table lookup per byte.
void convert(at::Tensor& img, double alpha, double beta) {
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v) {
    const float x = static_cast<float>(v) * static_cast<float>(alpha) + static_cast<float>(beta);
    lut[v] = static_cast<uint8_t>(x <= 0 ? 0 : x >= 255 ? 255 : x);
  }
  at::Tensor out = img.contiguous().clone();
  uint8_t* p = out.data_ptr<uint8_t>();
  for (int64_t i = 0, n = out.numel(); i < n; ++i) p[i] = lut[p[i]];
  img = out;
}

}  // namespace

at::Tensor rgb_to_hsv(const at::Tensor& rgb) {
  at::Tensor src = rgb.contiguous();
  at::Tensor out = at::empty_like(src);
  const uint8_t* in = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t i = 0, n = src.numel() / 3; i < n; ++i) {
    const int r = in[3 * i], g = in[3 * i + 1], b = in[3 * i + 2];
    const int v = std::max({r, g, b}), diff = v - std::min({r, g, b});
    float h = 0;
    if (diff != 0) {
      const float scale = 60.0f / diff;
      if (v == r) h = (g - b) * scale;
      else if (v == g) h = 120.0f + (b - r) * scale;
      else h = 240.0f + (r - g) * scale;
      if (h < 0) h += 360;
    }
    const int hh = static_cast<int>(h * 0.5f + 0.5f);
    o[3 * i] = static_cast<uint8_t>(hh >= 180 ? hh - 180 : hh);
    o[3 * i + 1] = v == 0 ? 0 : saturate(diff * 255.0f / v);
    o[3 * i + 2] = static_cast<uint8_t>(v);
  }
  return out;
}

at::Tensor hsv_to_rgb(const at::Tensor& hsv) {
  at::Tensor src = hsv.contiguous();
  at::Tensor out = at::empty_like(src);
  const uint8_t* in = src.data_ptr<uint8_t>();
  uint8_t* o = out.data_ptr<uint8_t>();
  for (int64_t i = 0, n = src.numel() / 3; i < n; ++i) {
    const float h = in[3 * i] * (2.0f / 60.0f), s = in[3 * i + 1] * (1.0f / 255.0f), v = in[3 * i + 2];
    const int sector = static_cast<int>(h) % 6;
    const float f = h - static_cast<int>(h);
    const float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    float r, g, b;
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

at::Tensor normalize_table(const NormalizeParams& n) {
  at::Tensor table = at::empty({3, 256}, at::kFloat);
  float* t = table.data_ptr<float>();
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) t[256 * c + v] = static_cast<float>((v - n.mean[c]) / n.std[c]);
  return table;
}

Normalize::Normalize(NormalizeParams params) : p_(params) {}

void Normalize::apply(Sample& s, Rng&) const {
  if (s.image.scalar_type() != at::kByte) {  // already float (after another Normalize): the formula
    at::Tensor img = p_.to_rgb ? s.image : s.image.flip({2});
    s.image = ((img - at::tensor({p_.mean[0], p_.mean[1], p_.mean[2]}, at::kFloat)) /
               at::tensor({p_.std[0], p_.std[1], p_.std[2]}, at::kFloat)).contiguous();
    return;
  }
  const at::Tensor table = normalize_table(p_);
  const float* lut = table.data_ptr<float>();
  at::Tensor src = s.image.contiguous();
  at::Tensor out = at::empty(src.sizes(), src.options().dtype(at::kFloat));
  const uint8_t* in = src.data_ptr<uint8_t>();
  float* o = out.data_ptr<float>();
  for (int64_t i = 0, n = src.numel() / 3; i < n; ++i)
    for (int c = 0; c < 3; ++c) {
      const int from = p_.to_rgb ? c : 2 - c;  // config's mean/std in BGR order: output BGR
      o[3 * i + c] = lut[256 * c + in[3 * i + from]];
    }
  s.image = out;
}

}  // namespace segtrain::data
