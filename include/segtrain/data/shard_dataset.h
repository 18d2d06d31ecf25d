#pragma once
// One split of a dataset in segtrain's HDF5 shard format (docs/data_format.md): the folder
// <root>/<split>/ with <split>-00000-of-000NN.h5 files. Opening checks every shard (present,
// readable, format version, counts) and builds the sample index; errors name the file.
//
// The HDF5 library is one lock (its serial build is not thread-safe): read() holds it only to
// fetch a sample's raw chunk (H5Dread_chunk, one chunk per sample) and decompresses outside it,
// so the loader's workers decode in parallel.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace segtrain::data {

struct DatasetInfo {
  std::vector<std::string> classes;
  std::vector<std::array<uint8_t, 3>> palette;  // RGB per class
  bool reduce_zero_label = false;               // applied at conversion: labels are class ids
  std::string source_layout;
  std::string compression;
};

// The label value of pixels that count for nothing (MMSeg's ignore_index).
inline constexpr uint8_t kIgnoreLabel = 255;

struct RawSample {
  std::string name;
  // Views of one H x W x 4 buffer (not contiguous): .contiguous() where that matters.
  at::Tensor image;  // H x W x 3 uint8, RGB
  at::Tensor label;  // H x W uint8, class ids, 255 = ignore
};

class ShardDataset {
 public:
  explicit ShardDataset(const std::filesystem::path& split_dir);
  ~ShardDataset();
  ShardDataset(const ShardDataset&) = delete;
  ShardDataset& operator=(const ShardDataset&) = delete;

  std::size_t size() const;
  const DatasetInfo& info() const;
  const std::string& name(std::size_t index) const;
  std::array<int64_t, 2> shape(std::size_t index) const;  // (H, W)
  // Thread-safe. A damaged sample, or a label that is neither a class id nor kIgnoreLabel, is
  // a user error naming the shard, the sample and the value.
  RawSample read(std::size_t index) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace segtrain::data
