#include "segtrain/dist/shared_folder.h"

#include <mpi.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "segtrain/core/error.h"
#include "segtrain/core/host_name.h"
#include "segtrain/dist/collective_watchdog.h"
#include "world_comm.h"

namespace segtrain::dist {
namespace fs = std::filesystem;

void check_shared_by_all_nodes(const World& world, const fs::path& dir) {
  if (world.num_nodes() == 1) return;
  // A name of this job's own: two jobs started at once on one work_dir do not see each other's.
  const uint64_t token = world.broadcast(world.is_main() ? std::random_device{}() * 0x9E3779B97F4A7C15ull : 0);
  const fs::path marker = dir / (".segtrain_node_check_" + std::to_string(token));
  world.run_on_main([&] {
    std::ofstream out(marker);
    out << token << "\n";
    if (!out.flush()) throw user_error(dir.string(), "cannot write in the work_dir");
  });

  // The first rank of each node looks; the highest rank whose node is blind names it to all.
  // Looked for a few times: a network filesystem may answer from a cache made before the file
  // existed for up to a few seconds (NFS's attribute cache).
  bool seen = true;
  if (world.local_rank() == 0 && !world.is_main()) {
    seen = false;
    for (int attempt = 0; attempt < 10 && !seen; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      std::ifstream in(marker);
      uint64_t read = 0;
      seen = static_cast<bool>(in >> read) && read == token;
    }
  }
  int blind_rank = seen ? -1 : world.rank();
  {
    CollectiveWait wait("MPI_Allreduce");
    if (MPI_Allreduce(MPI_IN_PLACE, &blind_rank, 1, MPI_INT, MPI_MAX, mpi_comm(world)) != MPI_SUCCESS)
      throw runtime_error("MPI", "MPI_Allreduce of the work_dir check failed");
  }
  if (world.is_main()) {
    std::error_code ignored;
    fs::remove(marker, ignored);
  }
  if (blind_rank < 0) return;

  std::array<char, 256> host{};
  if (world.rank() == blind_rank) std::strncpy(host.data(), host_name().c_str(), host.size() - 1);
  {
    CollectiveWait wait("MPI_Bcast");
    if (MPI_Bcast(host.data(), static_cast<int>(host.size()), MPI_CHAR, blind_rank, mpi_comm(world)) != MPI_SUCCESS)
      throw runtime_error("MPI", "MPI_Bcast of the work_dir check failed");
  }
  // Rank 0 says it once; the others leave with its exit code.
  world.run_on_main([&] {
    throw user_error(dir.string(), "the work_dir is not shared by the job's nodes: node " + std::string(host.data()) +
                                       " (rank " + std::to_string(blind_rank) + ") does not see the file rank 0 wrote "
                                       "there; put the work_dir on a filesystem every node mounts (NFS, Lustre, ...): "
                                       "logs and checkpoints are written once, by rank 0, and read by every rank");
  });
}

}  // namespace segtrain::dist
