#include "segtrain/data/chunk_codec.h"

#include <blosc.h>
#include <lz4.h>
#include <zlib.h>

#include "segtrain/core/error.h"

namespace segtrain::data {
namespace {

constexpr int kDeflate = 1, kShuffle = 2, kBlosc = 32001, kLz4 = 32004;

uint64_t big_endian(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// A compressed stream says how large it decodes; a damaged one may say terabytes. No stage of a
// sample's pipeline holds much more than the sample (compressed data of an inner filter can
// exceed it only by its framing), so far more is damage, not a reason to allocate.
void check_declared_size(uint64_t declared, std::size_t sample_bytes, const char* codec, const std::string& where) {
  if (declared > sample_bytes + sample_bytes / 2 + 4096)
    throw user_error(where, std::string("corrupt ") + codec + " chunk (declares " + std::to_string(declared) +
                                " bytes for a sample of " + std::to_string(sample_bytes) + ")");
}

Bytes inflate_zlib(const Bytes& in, std::size_t expected, const std::string& where) {
  Bytes out(expected);
  uLongf size = out.size();
  int rc = uncompress(out.data(), &size, in.data(), in.size());
  if (rc != Z_OK) throw user_error(where, "corrupt gzip chunk (zlib error " + std::to_string(rc) + ")");
  out.resize(size);
  return out;
}

// The HDF5 LZ4 filter (32004): 8-byte total size, 4-byte block size (big-endian), then per
// block a 4-byte compressed size and the data; a block whose compressed size equals its plain
// size is stored uncompressed.
Bytes inflate_lz4(const Bytes& in, std::size_t sample_bytes, const std::string& where) {
  if (in.size() < 12) throw user_error(where, "corrupt LZ4 chunk (short header)");
  const uint64_t total = big_endian(in.data(), 8);
  const uint64_t block = big_endian(in.data() + 8, 4);
  if (block == 0) throw user_error(where, "corrupt LZ4 chunk (header)");
  check_declared_size(total, sample_bytes, "LZ4", where);
  Bytes out(total);
  std::size_t pos = 12, done = 0;
  while (done < total) {
    const uint64_t plain = std::min<uint64_t>(block, total - done);
    if (pos + 4 > in.size()) throw user_error(where, "corrupt LZ4 chunk (truncated)");
    const uint64_t packed = big_endian(in.data() + pos, 4);
    pos += 4;
    if (pos + packed > in.size()) throw user_error(where, "corrupt LZ4 chunk (truncated block)");
    if (packed == plain) {
      std::copy_n(in.data() + pos, plain, out.data() + done);
    } else {
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos),
                                  reinterpret_cast<char*>(out.data() + done), static_cast<int>(packed),
                                  static_cast<int>(plain));
      if (n != static_cast<int>(plain)) throw user_error(where, "corrupt LZ4 chunk (block)");
    }
    pos += packed;
    done += plain;
  }
  return out;
}

Bytes inflate_blosc(const Bytes& in, std::size_t sample_bytes, const std::string& where) {
  size_t nbytes = 0, cbytes = 0, blocksize = 0;
  if (in.size() < BLOSC_MIN_HEADER_LENGTH) throw user_error(where, "corrupt Blosc chunk (short header)");
  blosc_cbuffer_sizes(in.data(), &nbytes, &cbytes, &blocksize);
  if (cbytes > in.size()) throw user_error(where, "corrupt Blosc chunk (truncated)");
  check_declared_size(nbytes, sample_bytes, "Blosc", where);
  Bytes out(nbytes);
  // The context API keeps concurrent workers independent of Blosc's global state.
  int n = blosc_decompress_ctx(in.data(), out.data(), out.size(), 1);
  if (n < 0 || static_cast<size_t>(n) != nbytes) throw user_error(where, "corrupt Blosc chunk");
  return out;
}

Bytes unshuffle(const Bytes& in, std::size_t element_size) {
  if (element_size <= 1) return in;
  Bytes out(in.size());
  const std::size_t n = in.size() / element_size;
  for (std::size_t b = 0; b < element_size; ++b)
    for (std::size_t i = 0; i < n; ++i) out[i * element_size + b] = in[b * n + i];
  return out;
}

}  // namespace

std::string supported_filters() { return "gzip (1), shuffle (2), Blosc incl. zstd (32001), LZ4 (32004)"; }

Bytes decode_chunk(Bytes data, const std::vector<Filter>& pipeline, uint32_t mask,
                                  std::size_t expected_bytes, std::size_t element_size, const std::string& where) {
  for (std::size_t k = pipeline.size(); k-- > 0;) {  // filters were applied in order: undo in reverse
    if (mask & (1u << k)) continue;
    const Filter& f = pipeline[k];
    switch (f.id) {
      case kDeflate: data = inflate_zlib(data, expected_bytes, where); break;
      case kShuffle: data = unshuffle(data, element_size); break;
      case kLz4: data = inflate_lz4(data, expected_bytes, where); break;
      case kBlosc: data = inflate_blosc(data, expected_bytes, where); break;
      default:
        throw user_error(where, "HDF5 filter " + std::to_string(f.id) + (f.name.empty() ? "" : " (" + f.name + ")") +
                                    " is not supported; segtrain reads " + supported_filters() +
                                    " (reconvert with --compression none|gzip|lz4|zstd)");
    }
  }
  if (data.size() != expected_bytes)
    throw user_error(where, "chunk decodes to " + std::to_string(data.size()) + " bytes, expected " +
                                   std::to_string(expected_bytes));
  return data;
}

}  // namespace segtrain::data
