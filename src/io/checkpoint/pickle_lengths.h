#pragma once
// Torch's unpickler allocates (and zero-fills) as many bytes as a string or bytes opcode
// declares before it reads them: a damaged data.pkl that declares 4 GB takes 4 GB of memory on
// its way to an error, and sizes its memo table by any id a LONG_BINPUT names (tests/fuzz found
// both). This walks the opcodes first and rejects a declared length that runs past the end of
// the pickle, and a memo id no pickle of that size can hold.
#include <cstddef>
#include <string>

namespace segtrain::io {

// A user error naming `file` when an opcode's argument runs past the end of `pickle`, a memo id
// exceeds its size, or an opcode is not one of pickle protocol 0-5's.
void check_pickle_lengths(const char* pickle, std::size_t size, const std::string& file);

}  // namespace segtrain::io
