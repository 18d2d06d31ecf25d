#include "pickle_lengths.h"

#include "pickle_opcodes.h"
#include "segtrain/core/error.h"

namespace segtrain::io {
using namespace pickle;

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
