#pragma once
// PNG output through libpng's simplified API: an RGB image, written atomically
// (io/atomic_file.h) so an interrupted segtest never leaves a truncated picture.
#include <cstdint>
#include <filesystem>

namespace segtrain::io {

// `rgb`: height x width x 3 bytes, rows contiguous. Throws a runtime error naming the file.
void write_png_rgb(const std::filesystem::path& file, const uint8_t* rgb, int width, int height);

}  // namespace segtrain::io
