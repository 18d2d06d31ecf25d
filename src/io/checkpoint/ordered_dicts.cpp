#include "ordered_dicts.h"

#include <map>
#include <string_view>
#include <vector>

#include "pickle_opcodes.h"

namespace segtrain::io {
using namespace pickle;
namespace {

constexpr std::string_view kOrderedDict = "collections\nOrderedDict\n";
constexpr std::string_view kRestoreTypeTag = "torch.jit._pickle\nrestore_type_tag\n";
constexpr std::string_view kDictType = "Dict[str, Any]";

// BINUNICODE of `text`.
std::string unicode(std::string_view text) {
  std::string op = "X";
  for (int i = 0; i < 4; ++i) op.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return op.append(text);
}

// What a value on the unpickler's stack is, as far as the rewrite cares, and where its bytes
// start in the output.
enum class Kind { Other, OrderedDictClass, OrderedDict };
struct Entry {
  std::size_t start;
  Kind kind;
};

}  // namespace

std::string plain_dicts(const char* data, std::size_t size) {
  const std::string_view bytes(data, size);
  if (bytes.find(kOrderedDict) == std::string_view::npos) return std::string(bytes);
  std::string out;
  out.reserve(size + size / 8);
  std::vector<Entry> stack;
  std::vector<std::size_t> marks;  // stack sizes at each MARK
  std::vector<std::size_t> mark_starts;
  std::map<uint64_t, Kind> memo;
  auto pop = [&](std::size_t n) { stack.resize(stack.size() >= n ? stack.size() - n : 0); };
  auto pop_to_mark = [&]() -> std::size_t {  // the MARK's start
    if (marks.empty()) return out.size();
    stack.resize(std::min(stack.size(), marks.back()));
    const std::size_t start = mark_starts.back();
    marks.pop_back();
    mark_starts.pop_back();
    return start;
  };

  std::size_t pos = 0;
  while (auto op = read_op(data, size, pos)) {
    const std::size_t at = out.size();
    const std::string_view whole = bytes.substr(pos, op->end - pos);
    const std::string_view arg = bytes.substr(op->arg, op->end - op->arg);
    pos = op->end;
    switch (op->code) {
      case 'c':  // GLOBAL
        if (arg == kOrderedDict) {
          out.append("c").append(kRestoreTypeTag);
          stack.push_back({at, Kind::OrderedDictClass});
          continue;
        }
        stack.push_back({at, Kind::Other});
        break;
      case ')': {  // EMPTY_TUPLE: OrderedDict's __reduce__ calls the class with ()
        const auto next = read_op(data, size, pos);
        if (!stack.empty() && stack.back().kind == Kind::OrderedDictClass && next && next->code == 'R') {
          out.append("}").append(unicode(kDictType)).append("\x86R");  // restore_type_tag(({}, T))
          stack.back().kind = Kind::OrderedDict;
          pos = next->end;
          continue;
        }
        stack.push_back({at, Kind::Other});
        break;
      }
      case 'b':  // BUILD
        if (stack.size() >= 2 && stack[stack.size() - 2].kind == Kind::OrderedDict) {
          // restore_type_tag((dict, T, state)): the dict, its state dropped.
          const Entry dict = stack[stack.size() - 2];
          // The insertions shift what starts after the dict; only the stack above it records such
          // starts, and BUILD pops that, but an open MARK would keep a stale one: not rewritten
          // (torch then reports the file it cannot read).
          if (!mark_starts.empty() && mark_starts.back() > dict.start) return std::string(bytes);
          const std::size_t state_start = stack.back().start;
          out.insert(state_start, unicode(kDictType));
          out.insert(dict.start, std::string("c").append(kRestoreTypeTag));
          out.append("\x87R");  // TUPLE3, REDUCE
          pop(1);
          continue;
        }
        pop(1);
        break;
      case 'p':  // PUT (protocol 0): no stack effect
        break;
      case 'q': case 'r': case 0x94:  // BINPUT, LONG_BINPUT, MEMOIZE
        if (!stack.empty() && op->code != 0x94) memo[little_endian(data + op->arg, op->code == 'q' ? 1 : 4)] = stack.back().kind;
        break;
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const auto it = memo.find(little_endian(data + op->arg, op->code == 'h' ? 1 : 4));
        stack.push_back({at, it == memo.end() ? Kind::Other : it->second});
        break;
      }
      case '(':  // MARK
        marks.push_back(stack.size());
        mark_starts.push_back(at);
        break;
      case 't': case 'l': case 'd': case 0x91: case 'o': case 'i':  // built from the items since the MARK
        stack.push_back({pop_to_mark(), Kind::Other});
        break;
      case 'e': case 'u': case 0x90: case '1':  // APPENDS, SETITEMS, ADDITEMS, POP_MARK
        pop_to_mark();
        break;
      case 0x86: case 'a': case 'R': case 0x81: case 0x93: case '0':  // TUPLE2, APPEND, REDUCE, NEWOBJ, STACK_GLOBAL, POP
        pop(1);
        if (op->code != 'a' && op->code != '0' && !stack.empty()) stack.back().kind = Kind::Other;  // a new value
        break;
      case 0x87: case 's':  // TUPLE3, SETITEM
        pop(2);
        if (op->code == 0x87 && !stack.empty()) stack.back().kind = Kind::Other;
        break;
      case 0x92:  // NEWOBJ_EX
        pop(2);
        if (!stack.empty()) stack.back().kind = Kind::Other;
        break;
      case 0x85: case 'Q': case 0x98: case 0x80: case 0x95: case '.':  // in place, or no stack effect
        if ((op->code == 0x85 || op->code == 'Q') && !stack.empty()) stack.back().kind = Kind::Other;
        break;
      case '2':  // DUP
        if (!stack.empty()) stack.push_back({at, stack.back().kind});
        break;
      default:  // every other opcode pushes one value
        stack.push_back({at, Kind::Other});
        break;
    }
    out.append(whole);
    if (op->code == '.') break;  // STOP
  }
  out.append(bytes.substr(pos));
  return out;
}

}  // namespace segtrain::io
