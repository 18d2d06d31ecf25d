#pragma once
// The set of processes of one job, found through MPI alone: mpirun / srun --mpi=pmix hand every
// process its rank, so there is no TCP rendezvous and no port that two jobs could fight over.
// Started without a launcher, MPI runs as a singleton: a world of one. MPI itself stays behind
// this interface (dist/ files reach its communicator through src/dist/world_comm.h).
#include <cstdint>
#include <functional>
#include <string>

#include "segtrain/dist/peer_failed.h"

namespace segtrain::dist {

class World {
 public:
  // Initializes MPI once per process (collective over MPI_COMM_WORLD). Later calls return the
  // same world. MPI is finalized at process exit.
  static World& init();
  // The initialized world; a runtime error if init() has not run.
  static World& get();
  // The initialized world, or null before init().
  static const World* current();

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes of this node
  int local_size() const { return local_size_; }
  int num_nodes() const { return num_nodes_; }
  bool is_main() const { return rank_ == 0; }

  // Collective: every rank waits for all the others.
  void barrier() const;
  // Collective: rank 0's value, on every rank.
  uint64_t broadcast(uint64_t value) const;
  // Collective: runs `step` on rank 0 only (files written once: logs, checkpoints, the config
  // dump) while the others wait. If it throws, rank 0 rethrows and the others throw PeerFailed,
  // so no rank is left waiting for a rank that gave up.
  void run_on_main(const std::function<void()>& step) const;
  // Collective: the largest of the ranks' values (e.g. an error code every rank must see).
  int max(int value) const;
  // Not collective: ends every process of the job now (MPI_Abort) with `exit_code`. For a failure
  // on this rank that the others cannot learn of while they wait in a collective.
  [[noreturn]] void abort(int exit_code) const;
  // True once run_on_main has failed: every rank knows and leaves by itself, no abort needed.
  bool every_rank_knows_of_a_failure() const { return every_rank_knows_of_a_failure_; }

  World(const World&) = delete;
  World& operator=(const World&) = delete;

 private:
  World();
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, num_nodes_ = 1;
  mutable bool every_rank_knows_of_a_failure_ = false;
};

}  // namespace segtrain::dist
