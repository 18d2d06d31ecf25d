#include "segtrain/data/transforms/geometric.h"

#include <ATen/ATen.h>

#include <cmath>

#include "segtrain/core/error.h"

namespace segtrain::data {

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t randint(Rng& rng, int64_t lo, int64_t hi) {
  return hi <= lo ? lo : std::uniform_int_distribution<int64_t>(lo, hi - 1)(rng);
}

namespace {

// Source coordinate and weight of each output position, as cv2.INTER_LINEAR computes them.
struct Tap {
  int64_t lo, hi;
  float w;  // weight of hi
};

std::vector<Tap> taps(int64_t in, int64_t out, int64_t start, int64_t count) {
  const double scale = static_cast<double>(in) / out;
  std::vector<Tap> t(count);
  for (int64_t i = 0; i < count; ++i) {
    double f = (start + i + 0.5) * scale - 0.5;
    int64_t lo = static_cast<int64_t>(std::floor(f));
    float w = static_cast<float>(f - lo);
    if (lo < 0) lo = 0, w = 0;
    if (lo >= in - 1) lo = in - 1, w = 0;
    t[i] = {lo, std::min(lo + 1, in - 1), w};
  }
  return t;
}

at::Tensor nearest_index(int64_t in, int64_t out, int64_t start, int64_t count) {
  at::Tensor idx = ((at::arange(start, start + count, at::kDouble) * (static_cast<double>(in) / out)).floor())
                       .to(at::kLong);
  return idx.clamp_max(in - 1);
}

}  // namespace

at::Tensor resize_window(const at::Tensor& image, std::array<int64_t, 2> full, int64_t y0, int64_t x0, int64_t h,
                         int64_t w) {
  TORCH_CHECK(image.scalar_type() == at::kByte && image.dim() == 3, "resize_window: H x W x C uint8 expected");
  const int64_t in_h = image.size(0), in_w = image.size(1), channels = image.size(2);
  if (full[0] == in_h && full[1] == in_w) return image.narrow(0, y0, h).narrow(1, x0, w).contiguous();
  const auto ys = taps(in_h, full[0], y0, h), xs = taps(in_w, full[1], x0, w);
  const uint8_t* src = image.data_ptr<uint8_t>();
  const int64_t sy = image.stride(0), sx = image.stride(1), sc = image.stride(2);
  at::Tensor out = at::empty({h, w, channels}, image.options());
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int64_t i = 0; i < h; ++i) {
    const uint8_t* top = src + ys[i].lo * sy;
    const uint8_t* bottom = src + ys[i].hi * sy;
    const float wy = ys[i].w;
    uint8_t* row = dst + i * w * channels;
    for (int64_t j = 0; j < w; ++j) {
      const Tap& t = xs[j];
      for (int64_t c = 0; c < channels; ++c) {
        const float a = top[t.lo * sx + c * sc], b = top[t.hi * sx + c * sc];
        const float d = bottom[t.lo * sx + c * sc], e = bottom[t.hi * sx + c * sc];
        const float upper = a + (b - a) * t.w, lower = d + (e - d) * t.w;
        row[j * channels + c] = static_cast<uint8_t>(upper + (lower - upper) * wy + 0.5f);
      }
    }
  }
  return out;
}

at::Tensor label_window(const at::Tensor& label, std::array<int64_t, 2> full, int64_t y0, int64_t x0, int64_t h,
                        int64_t w) {
  if (full[0] == label.size(0) && full[1] == label.size(1))
    return label.narrow(0, y0, h).narrow(1, x0, w).contiguous();
  return label.index_select(0, nearest_index(label.size(0), full[0], y0, h))
      .index_select(1, nearest_index(label.size(1), full[1], x0, w))
      .contiguous();
}

namespace {

// Class histogram of a label window under a (pending) nearest resize, without building it.
std::array<int64_t, 256> window_histogram(const at::Tensor& label, std::array<int64_t, 2> full, int64_t y0,
                                          int64_t x0, int64_t h, int64_t w) {
  std::array<int64_t, 256> counts{};
  const double sy = static_cast<double>(label.size(0)) / full[0], sx = static_cast<double>(label.size(1)) / full[1];
  std::vector<int64_t> cols(w);
  for (int64_t j = 0; j < w; ++j)
    cols[j] = std::min<int64_t>(static_cast<int64_t>(std::floor((x0 + j) * sx)), label.size(1) - 1) * label.stride(1);
  const uint8_t* src = label.data_ptr<uint8_t>();
  for (int64_t i = 0; i < h; ++i) {
    const int64_t r = std::min<int64_t>(static_cast<int64_t>(std::floor((y0 + i) * sy)), label.size(0) - 1);
    const uint8_t* row = src + r * label.stride(0);
    for (int64_t j = 0; j < w; ++j) ++counts[row[cols[j]]];
  }
  return counts;
}

}  // namespace

void materialize(Sample& s) {
  if (!s.pending_size) return;
  const auto [h, w] = *s.pending_size;
  s.image = resize_window(s.image, {h, w}, 0, 0, h, w);
  if (s.label.defined()) s.label = label_window(s.label, {h, w}, 0, 0, h, w);
  s.pending_size.reset();
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
  // img_scale is (w, h), as in MMSeg; rescaled_size works in (h, w). The pixels are computed
  // by the next step that needs them (only the crop's, when that is RandomCrop).
  const auto [cur_h, cur_w] = s.size();
  s.pending_size = keep_ratio_ ? rescaled_size(cur_h, cur_w, scale) : std::array<int64_t, 2>{scale[1], scale[0]};
}

RandomCrop::RandomCrop(std::array<int64_t, 2> crop_size, double cat_max_ratio, int ignore_index)
    : size_(crop_size), cat_max_ratio_(cat_max_ratio), ignore_index_(ignore_index) {}

void RandomCrop::apply(Sample& s, Rng& rng) const {
  const auto full = s.size();  // a pending resize is interpolated for the crop alone
  const int64_t h = full[0], w = full[1];
  const int64_t ch = std::min(size_[0], h), cw = std::min(size_[1], w);
  auto draw = [&] { return std::array<int64_t, 2>{randint(rng, 0, h - ch + 1), randint(rng, 0, w - cw + 1)}; };
  auto box = draw();
  if (cat_max_ratio_ < 1.0 && s.label.defined()) {
    for (int attempt = 0; attempt < 10; ++attempt) {  // MMSeg's 10 tries
      auto counts = window_histogram(s.label, full, box[0], box[1], ch, cw);
      if (ignore_index_ >= 0 && ignore_index_ < 256) counts[ignore_index_] = 0;
      int64_t classes = 0, most = 0, total = 0;
      for (int64_t c : counts) {
        classes += c > 0;
        most = std::max(most, c);
        total += c;
      }
      if (classes > 1 && static_cast<double>(most) / total < cat_max_ratio_) break;
      box = draw();
    }
  }
  s.image = resize_window(s.image, full, box[0], box[1], ch, cw);
  if (s.label.defined()) s.label = label_window(s.label, full, box[0], box[1], ch, cw);
  s.pending_size.reset();
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
