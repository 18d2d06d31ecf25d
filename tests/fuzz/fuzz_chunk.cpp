// The shard reader's chunk decoder (data/chunk_codec.h): the bytes of one sample's chunk as a
// damaged or hostile shard could hold them, under any filter pipeline the shard may declare.
// Input: byte 0 = filter count (bits 0-1) and skip mask (bits 2-4); one byte per filter choosing
// its id; two bytes giving the sample's height and width (1-64 each); the rest is the chunk.
// make_seed_corpus.py writes real chunks of the test shards in this form.
#include <cstdint>

#include "fuzz_support.h"
#include "segtrain/data/chunk_codec.h"

using namespace segtrain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t count = data[0] & 3;
  const uint32_t mask = (data[0] >> 2) & 7;
  if (size < 1 + count + 2) return 0;
  static const int kIds[] = {1, 2, 32001, 32004, 307};  // gzip, shuffle, Blosc, LZ4, bzip2 (unsupported)
  std::vector<data::Filter> pipeline;
  for (std::size_t k = 0; k < count; ++k) pipeline.push_back({kIds[data[1 + k] % 5], "", {}});
  const std::size_t height = 1 + data[1 + count] % 64, width = 1 + data[2 + count] % 64;
  const std::size_t expected = height * width * 4;
  data::Bytes raw(data + 3 + count, data + size);
  fuzz::expect_success_or_error([&] {
    const data::Bytes plain = data::decode_chunk(std::move(raw), pipeline, mask, expected, 1, "shard.h5:samples/000000");
    if (plain.size() != expected) fuzz::fail("decode_chunk returned a chunk of the wrong size");
  });
  return 0;
}
