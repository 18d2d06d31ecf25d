#include "segtrain/dist/world.h"

#include <mpi.h>

#include <cstdlib>
#include <memory>

#include "segtrain/core/error.h"
#include "segtrain/dist/collective_watchdog.h"

namespace segtrain::dist {
namespace {

std::unique_ptr<World> g_world;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw runtime_error("MPI", std::string(what) + " failed: " + std::string(text, len));
  }
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

World::World() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // MPI_THREAD_MULTIPLE: the gradient reducer's communication thread and the loader's workers
    // may call MPI while the training thread does (barriers, broadcasts, the preemption flag).
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    std::atexit(finalize_at_exit);
    if (provided < MPI_THREAD_MULTIPLE)
      throw runtime_error("MPI", "this MPI library does not provide MPI_THREAD_MULTIPLE");
  }
  // Errors come back as codes we turn into one-line errors instead of MPI aborting the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");

  MPI_Comm node_comm;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm),
        "MPI_Comm_split_type");
  MPI_Comm_rank(node_comm, &local_rank_);
  MPI_Comm_size(node_comm, &local_size_);
  MPI_Comm_free(&node_comm);
  int node_leader = local_rank_ == 0 ? 1 : 0;
  check(MPI_Allreduce(&node_leader, &num_nodes_, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
}

World& World::init() {
  if (!g_world) g_world.reset(new World());
  return *g_world;
}

const World* World::current() { return g_world.get(); }

void World::abort(int exit_code) const {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; should it, leave all the same
}

World& World::get() {
  if (!g_world) throw runtime_error("dist", "World::get() before World::init()");
  return *g_world;
}

void World::barrier() const {
  CollectiveWait wait("MPI_Barrier");
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

uint64_t World::broadcast(uint64_t value) const {
  CollectiveWait wait("MPI_Bcast");
  check(MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return value;
}

void World::run_on_main(const std::function<void()>& step) const {
  std::exception_ptr failure;
  int exit_code = 0;
  if (is_main()) {
    try {
      step();
    } catch (const Error& e) {
      failure = std::current_exception();
      exit_code = e.exit_code();
    } catch (...) {
      failure = std::current_exception();
      exit_code = 1;
    }
  }
  exit_code = max(exit_code);
  if (exit_code != 0) every_rank_knows_of_a_failure_ = true;
  if (failure) std::rethrow_exception(failure);
  if (exit_code != 0) throw PeerFailed(exit_code);
}

int World::max(int value) const {
  int out = 0;
  CollectiveWait wait("MPI_Allreduce");
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

}  // namespace segtrain::dist
