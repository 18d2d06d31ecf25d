#pragma once
// Ends the job when this rank has waited in an MPI collective longer than a timeout
// (`dist_params.timeout`, seconds; 1800 as torch's default): a peer that stopped (SIGSTOP, a hung
// file system, a deadlock) must not hold every device of the job forever. Each blocking MPI
// collective marks its wait (CollectiveWait); one thread per process looks at them once a second
// and, past the timeout, prints which collective waited how long and what the run was doing
// ("iteration 12"), then ends the job (MPI_Abort). Which rank did not arrive MPI cannot tell.
// The NCCL communicator has its own watchdog, for the GPU's collectives.
#include <chrono>
#include <cstdint>
#include <string>

namespace segtrain::dist {

class World;

// Starts the watchdog thread (the first call) or changes its timeout.
void watch_collectives(const World& world, std::chrono::seconds timeout);
// What the run is doing now, for the watchdog's message.
void set_collective_context(const std::string& context);

// This thread waits in the MPI collective `name` while the object lives.
class CollectiveWait {
 public:
  explicit CollectiveWait(const char* name);
  ~CollectiveWait();
  CollectiveWait(const CollectiveWait&) = delete;
  CollectiveWait& operator=(const CollectiveWait&) = delete;

 private:
  uint64_t id_;
};

}  // namespace segtrain::dist
