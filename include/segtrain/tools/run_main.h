#pragma once
// The one path from a failure to an exit code, for segtrain and segtest:
//   segtrain::Error       one line on stderr ("PROGRAM: error: ..."), exit 2 (user) or 1 (runtime).
//                         User errors come from the same flags and config on every rank, so
//                         rank 0 speaks for all; runtime errors are printed by the rank that had them.
//   Preempted             exit 75 (the preemption hook has said where the checkpoint is).
//   dist::PeerFailed      rank 0 has reported the error; leave with its exit code.
//   c10::Error            torch's message without its backtrace, with the rank, exit 1.
//   other std::exception  one line with the rank, exit 1.
#include <functional>
#include <string>

namespace segtrain::tools {

int run_main(const std::string& program, const std::function<int()>& body);

}  // namespace segtrain::tools
