#include "segtrain/io/png_file.h"

#include <png.h>

#include <cstring>
#include <string>
#include <vector>

#include "segtrain/core/error.h"
#include "segtrain/io/atomic_file.h"

namespace segtrain::io {

void write_png_rgb(const std::filesystem::path& file, const uint8_t* rgb, int width, int height) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;  // first call: how many bytes the encoded file takes
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgb, 0, nullptr))
    throw runtime_error(file.string(), std::string("cannot encode PNG: ") + image.message);
  std::vector<char> bytes(size);
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, rgb, 0, nullptr))
    throw runtime_error(file.string(), std::string("cannot encode PNG: ") + image.message);
  write_file_atomic(file, std::string_view(bytes.data(), size));
}

}  // namespace segtrain::io
