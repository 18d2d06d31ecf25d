#include "pickle_lengths.h"

#include <cstdint>
#include <cstring>

#include "segtrain/core/error.h"

namespace segtrain::io {
namespace {

uint64_t little_endian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// How an opcode's argument is laid out (Python's pickletools.opcodes).
enum class Arg { None, Fixed, Counted, Line, TwoLines };
struct Layout {
  Arg arg;
  int bytes;  // Fixed: the argument's size; Counted: the size of its little-endian length
};

Layout layout_of(unsigned char op) {
  switch (op) {
    // No argument.
    case '(': case '.': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case '}': case ']':
    case ')': case 't': case 0x85: case 0x86: case 0x87: case 'a': case 'e': case 's': case 'u': case 'd':
    case 'l': case 'R': case 'b': case 0x81: case 'Q': case 0x8f: case 0x90: case 0x91: case 0x92: case 0x93:
    case 0x94: case 0x97: case 0x98: case 'o':
      return {Arg::None, 0};
    // Fixed-size arguments.
    case 'K': case 'q': case 'h': case 0x80: case 0x82:       return {Arg::Fixed, 1};
    case 'M': case 0x83:                                      return {Arg::Fixed, 2};
    case 'J': case 'r': case 'j': case 0x84:                  return {Arg::Fixed, 4};
    case 'G': case 0x95:                                      return {Arg::Fixed, 8};
    // A little-endian length, then that many bytes.
    case 'U': case 'C': case 0x8c: case 0x8a:                 return {Arg::Counted, 1};
    case 'T': case 'B': case 'X': case 0x8b:                  return {Arg::Counted, 4};
    case 0x8d: case 0x8e: case 0x96:                          return {Arg::Counted, 8};
    // Text up to a newline (protocol 0), or two such lines.
    case 'I': case 'L': case 'S': case 'V': case 'F': case 'p': case 'g': case 'P':
      return {Arg::Line, 0};
    case 'c': case 'i':
      return {Arg::TwoLines, 0};
    default:
      return {Arg::None, -1};
  }
}

}  // namespace

void check_pickle_lengths(const char* pickle, std::size_t size, const std::string& file) {
  auto damaged = [&](const std::string& why) {
    return user_error(file, "cannot read the checkpoint (damaged: " + why + ")");
  };
  std::size_t pos = 0;
  while (pos < size) {
    const auto op = static_cast<unsigned char>(pickle[pos++]);
    if (op == '.') return;  // STOP
    const Layout l = layout_of(op);
    if (l.bytes < 0) throw damaged("unknown pickle opcode " + std::to_string(op) + " at byte " + std::to_string(pos - 1));
    std::size_t skip = 0;
    switch (l.arg) {
      case Arg::None: break;
      case Arg::Fixed: skip = l.bytes; break;
      case Arg::Counted: {
        if (size - pos < static_cast<std::size_t>(l.bytes)) throw damaged("the pickle ends inside a length");
        const uint64_t length = little_endian(pickle + pos, l.bytes);
        pos += l.bytes;
        if (length > size - pos)
          throw damaged("a pickle value declares " + std::to_string(length) + " bytes where " +
                        std::to_string(size - pos) + " remain");
        skip = length;
        break;
      }
      case Arg::Line:
      case Arg::TwoLines:
        for (int line = 0; line < (l.arg == Arg::Line ? 1 : 2); ++line) {
          const void* end = std::memchr(pickle + pos, '\n', size - pos);
          if (!end) throw damaged("the pickle ends inside a line");
          pos = static_cast<const char*>(end) - pickle + 1;
        }
        break;
    }
    if (skip > size - pos) throw damaged("the pickle ends inside an opcode");
    // FRAME (protocol 4) announces how many bytes of opcodes follow, and torch reads them at once.
    if (op == 0x95 && little_endian(pickle + pos, 8) > size - pos - 8)
      throw damaged("a pickle frame declares more bytes than remain");
    // LONG_BINPUT: torch sizes its memo table by the id. Picklers number their memo entries from
    // 0, one per PUT of at least two bytes, so an id beyond the pickle's size is damage.
    if (op == 'r' && little_endian(pickle + pos, 4) > size)
      throw damaged("a pickle memo id beyond the pickle's size");
    pos += skip;
  }
  throw damaged("the pickle has no STOP");
}

}  // namespace segtrain::io
