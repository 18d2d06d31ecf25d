#include "segtrain/core/stderr_line.h"

#include <cstdio>

namespace segtrain {

void write_stderr_line(const std::string& line) {
  const std::string whole = line + "\n";
  std::fwrite(whole.data(), 1, whole.size(), stderr);  // stderr is unbuffered: one write(2)
  std::fflush(stderr);
}

}  // namespace segtrain
