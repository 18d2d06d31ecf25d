#include "segtrain/dist/communicator.h"

#include "segtrain/core/error.h"
#include "segtrain/dist/collective_watchdog.h"
#include "segtrain/dist/mpi_communicator.h"
#include "segtrain/dist/world.h"
#include "world_comm.h"
#include "segtrain_build_config.h"
#if SEGTRAIN_WITH_CUDA
#include "segtrain/dist/nccl_communicator.h"
#endif

namespace segtrain::dist {

std::shared_ptr<Communicator> make_communicator(const World& world, c10::Device device,
                                                const CommunicatorOptions& options) {
  if (device.is_cpu()) return std::make_shared<MpiCommunicator>(world, options);
#if SEGTRAIN_WITH_CUDA
  if (device.is_cuda()) return std::make_shared<NcclCommunicator>(world, device, options);
#endif
  throw runtime_error("dist", "no communicator for device " + device.str() + " in this build");
}

std::string broadcast_bytes(const World& world, std::string bytes, int root) {
  CollectiveWait wait("MPI_Bcast");
  uint64_t size = bytes.size();
  if (MPI_Bcast(&size, 1, MPI_UINT64_T, root, mpi_comm(world)) != MPI_SUCCESS)
    throw runtime_error("MPI", "broadcast of a blob's size failed");
  bytes.resize(size);
  // MPI counts are ints: send in pieces of at most 1 GiB.
  constexpr uint64_t kPiece = 1ull << 30;
  for (uint64_t start = 0; start < size; start += kPiece) {
    int count = static_cast<int>(std::min(kPiece, size - start));
    if (MPI_Bcast(bytes.data() + start, count, MPI_BYTE, root, mpi_comm(world)) != MPI_SUCCESS)
      throw runtime_error("MPI", "broadcast of a blob failed");
  }
  return bytes;
}

}  // namespace segtrain::dist
