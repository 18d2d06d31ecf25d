#pragma once
// The one path from a failure to an exit code, for segtrain and segtest. A failed rank prints
// one line on stderr, "[rank R on HOST] PROGRAM: error: ..." (just "PROGRAM: error: ..." in a
// world of one), and, when there are other ranks, ends the whole job at once (MPI_Abort with
// the exit code): they may be waiting for it in a collective and would wait forever.
//   segtrain::Error       exit 2 (the user's mistake) or 1 (runtime failure).
//   c10::Error, other std::exception   exit 1 (torch's message without its backtrace).
//   Preempted             exit 75, every rank together (the preemption hook saved a checkpoint).
//   dist::PeerFailed      a step of rank 0 failed; rank 0 reports it and ends the job.
// Flag errors come before MPI starts and are the same on every rank: rank 0 alone prints them.
#include <functional>
#include <string>

namespace segtrain::tools {

int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace segtrain::tools
