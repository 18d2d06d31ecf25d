#include "segtrain/tools/run_main.h"

#include <c10/util/Exception.h>

#include <chrono>
#include <thread>

#include "segtrain/core/env_vars.h"
#include "segtrain/core/error.h"
#include "segtrain/core/host_name.h"
#include "segtrain/core/stderr_line.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/preempted.h"

namespace segtrain::tools {
namespace {

constexpr auto kQuietForRankZero = std::chrono::seconds(2);

// Before MPI starts only the flags can be wrong, the same on every rank: rank 0 speaks for all,
// and every rank leaves (MPI never started, so no one waits). Once the world exists, a failure
// may be this rank's alone (its data, its node, its GPU) while the others wait in a collective:
// the rank says what failed and ends the whole job, unless every rank already knows (a failed
// run_on_main step).
int fail(const std::string& program, const std::string& message, int exit_code, bool same_on_every_rank) {
  const dist::World* world = dist::World::current();
  if (world == nullptr) {
    const int rank = env::launcher_rank();  // MPI's rank, known before MPI starts
    if (rank == 0 || !same_on_every_rank)
      write_stderr_line((rank == 0 ? "" : "[rank " + std::to_string(rank) + "] ") + program + ": error: " + message);
    return exit_code;
  }
  const bool others_wait = world->size() > 1 && !world->every_rank_knows_of_a_failure();
  // A user error (config, flags, files) is most often every rank's: give rank 0, failing the
  // same way, time to report it once and end the job before this rank says it again.
  if (others_wait && same_on_every_rank && world->rank() != 0) std::this_thread::sleep_for(kQuietForRankZero);
  write_stderr_line((world->size() > 1 ? "[rank " + std::to_string(world->rank()) + " on " + host_name() + "] " : "") + program +
      ": error: " + message);
  if (others_wait) world->abort(exit_code);
  return exit_code;
}

}  // namespace

int run_main(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const engine::Preempted&) {
    return engine::kPreemptedExitCode;  // every rank stopped at the same iteration
  } catch (const dist::PeerFailed& e) {
    return e.exit_code();  // rank 0 reports the failure and ends the job
  } catch (const Error& e) {
    return fail(program, e.what(), e.exit_code(), e.kind() == ErrorKind::User);
  } catch (const c10::Error& e) {  // torch's own failure: its message without the C++ backtrace
    return fail(program, e.what_without_backtrace(), 1, false);
  } catch (const std::exception& e) {
    return fail(program, e.what(), 1, false);
  }
}

}  // namespace segtrain::tools
