#include "segtrain/eval/show_result.h"

#include <cmath>

#include "segtrain/core/error.h"
#include "segtrain/io/png_file.h"

namespace segtrain::eval {

void write_overlay(const std::filesystem::path& file, const at::Tensor& image_in, const at::Tensor& prediction,
                   const std::vector<std::array<uint8_t, 3>>& palette, double opacity) {
  const at::Tensor image = image_in.contiguous();
  const int64_t h = prediction.size(0), w = prediction.size(1);
  if (image.size(0) != h || image.size(1) != w)
    throw runtime_error(file.string(), "image and prediction sizes differ");
  const uint8_t* pixels = image.data_ptr<uint8_t>();
  const at::Tensor classes_tensor = prediction.contiguous();
  const uint8_t* classes = classes_tensor.data_ptr<uint8_t>();
  std::vector<uint8_t> out(static_cast<std::size_t>(h * w * 3));
  for (int64_t i = 0; i < h * w; ++i) {
    const auto& colour = palette.at(classes[i] < palette.size() ? classes[i] : 0);
    for (int c = 0; c < 3; ++c)
      out[i * 3 + c] = static_cast<uint8_t>(std::lround(pixels[i * 3 + c] * (1 - opacity) + colour[c] * opacity));
  }
  std::filesystem::create_directories(file.parent_path());
  io::write_png_rgb(file, out.data(), static_cast<int>(w), static_cast<int>(h));
}

}  // namespace segtrain::eval
