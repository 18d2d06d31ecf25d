#include "segtrain/tools/run_main.h"

#include <c10/util/Exception.h>

#include <iostream>

#include "segtrain/core/env_vars.h"
#include "segtrain/core/error.h"
#include "segtrain/dist/peer_failed.h"
#include "segtrain/engine/preempted.h"

namespace segtrain::tools {

int run_main(const std::string& program, const std::function<int()>& body) {
  const int rank = env::launcher_rank();  // the launcher's rank is MPI's: known before MPI starts
  const std::string prefix = (rank == 0 ? "" : "[rank " + std::to_string(rank) + "] ") + program + ": error: ";
  try {
    return body();
  } catch (const Error& e) {
    if (rank == 0 || e.kind() == ErrorKind::Runtime) std::cerr << prefix << e.what() << std::endl;
    return e.exit_code();
  } catch (const engine::Preempted&) {
    return engine::kPreemptedExitCode;
  } catch (const dist::PeerFailed& e) {
    return e.exit_code();
  } catch (const c10::Error& e) {  // torch's own failure: its message without the C++ backtrace
    std::cerr << "[rank " << rank << "] " << program << ": error: " << e.what_without_backtrace() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "[rank " << rank << "] " << program << ": error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace segtrain::tools
