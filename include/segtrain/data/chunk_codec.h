#pragma once
// Decodes one raw HDF5 chunk (as H5Dread_chunk returns it) through its filter pipeline, outside
// the HDF5 library, so that decompression runs in parallel on the loader's workers.
// Filters understood: deflate/gzip (1), shuffle (2), LZ4 (32004, the HDF5 LZ4 plugin's framing),
// Blosc (32001, any of its codecs, zstd included). Anything else is an error naming the filter.
#include <cstdint>
#include <string>
#include <vector>

namespace segtrain::data {

struct Filter {
  int id = 0;
  std::string name;
  std::vector<unsigned> params;  // cd_values
};

// `mask`: H5Dread_chunk's filter mask (bit i set = filter i was skipped when writing).
// `where` names the file and dataset for errors.
std::vector<uint8_t> decode_chunk(std::vector<uint8_t> raw, const std::vector<Filter>& pipeline, uint32_t mask,
                                  std::size_t expected_bytes, std::size_t element_size, const std::string& where);

// The filters this build can decode, for messages and docs.
std::string supported_filters();

}  // namespace segtrain::data
