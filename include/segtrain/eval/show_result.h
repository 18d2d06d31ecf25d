#pragma once
// segtest --show-dir: a prediction in the dataset's palette blended over its image (MMSeg's
// show_result with `opacity`), written as an RGB PNG.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace segtrain::eval {

// `image`: H x W x 3 uint8; `prediction`: H x W uint8 class ids (ids beyond the palette take
// colour 0). Creates the folder. A runtime error naming the file when the sizes differ.
void write_overlay(const std::filesystem::path& file, const at::Tensor& image, const at::Tensor& prediction,
                   const std::vector<std::array<uint8_t, 3>>& palette, double opacity);

}  // namespace segtrain::eval
