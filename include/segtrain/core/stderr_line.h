#pragma once
#include <string>

namespace segtrain {

// Writes `line` and a newline to stderr in one write: the ranks of a job (and mpirun) share one
// pipe, and a line written in pieces can be cut by theirs.
void write_stderr_line(const std::string& line);

}  // namespace segtrain
