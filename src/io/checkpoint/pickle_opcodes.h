#pragma once
// Walking a pickle's opcodes without running them: each opcode's argument layout (Python's
// pickletools.opcodes, protocols 0-5), for the checks and the rewrite that run before torch's
// unpickler.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace segtrain::io::pickle {

inline uint64_t little_endian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

enum class Arg { None, Fixed, Counted, Line, TwoLines };
struct Layout {
  Arg arg;
  int bytes;  // Fixed: the argument's size; Counted: the size of its little-endian length; -1: no such opcode
};

inline Layout layout_of(unsigned char op) {
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

// One opcode: its byte, where its argument starts, and where the next opcode starts.
struct Op {
  unsigned char code;
  std::size_t arg, end;
};

// The opcode at `pos`, or nothing when it is unknown or its argument runs past `size` (the
// callers say which).
inline std::optional<Op> read_op(const char* pickle, std::size_t size, std::size_t pos) {
  if (pos >= size) return std::nullopt;
  const auto code = static_cast<unsigned char>(pickle[pos++]);
  const Layout l = layout_of(code);
  if (l.bytes < 0) return std::nullopt;
  const std::size_t arg = pos;
  switch (l.arg) {
    case Arg::None: break;
    case Arg::Fixed:
      if (size - pos < static_cast<std::size_t>(l.bytes)) return std::nullopt;
      pos += l.bytes;
      break;
    case Arg::Counted: {
      if (size - pos < static_cast<std::size_t>(l.bytes)) return std::nullopt;
      const uint64_t length = little_endian(pickle + pos, l.bytes);
      pos += l.bytes;
      if (length > size - pos) return std::nullopt;
      pos += length;
      break;
    }
    case Arg::Line:
    case Arg::TwoLines:
      for (int line = 0; line < (l.arg == Arg::Line ? 1 : 2); ++line) {
        const void* end = std::memchr(pickle + pos, '\n', size - pos);
        if (!end) return std::nullopt;
        pos = static_cast<const char*>(end) - pickle + 1;
      }
      break;
  }
  return Op{code, arg, pos};
}

}  // namespace segtrain::io::pickle
