#pragma once
// Decodes one raw HDF5 chunk (as H5Dread_chunk returns it) through its filter pipeline, outside
// the HDF5 library, so that decompression runs in parallel on the loader's workers.
// Filters understood: deflate/gzip (1), shuffle (2), LZ4 (32004, the HDF5 LZ4 plugin's framing),
// Blosc (32001, any of its codecs, zstd included). Anything else is an error naming the filter.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace segtrain::data {

// A byte buffer whose resize() leaves new bytes uninitialized: chunks are megabytes that are
// overwritten at once, and zero-filling them first costs as much as decoding.
template <typename T> struct UninitializedAllocator : std::allocator<T> {
  template <typename U> struct rebind {
    using other = UninitializedAllocator<U>;
  };
  template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
  using std::allocator<T>::allocator;
};
using Bytes = std::vector<uint8_t, UninitializedAllocator<uint8_t>>;

struct Filter {
  int id = 0;
  std::string name;
  std::vector<unsigned> params;  // cd_values
};

// `mask`: H5Dread_chunk's filter mask (bit i set = filter i was skipped when writing).
// `where` names the file and dataset for errors.
Bytes decode_chunk(Bytes raw, const std::vector<Filter>& pipeline, uint32_t mask,
                                  std::size_t expected_bytes, std::size_t element_size, const std::string& where);

// The filters this build can decode, for messages and docs.
std::string supported_filters();

}  // namespace segtrain::data
