#pragma once
// The NCCL backend for CUDA tensors (built when torch has CUDA).
// Rendezvous: rank 0 makes the unique id (ncclGetUniqueId), MPI_Bcast hands it to every rank,
// each calls ncclCommInitRank on the GPU of its local rank. No TCP store, no port.
// Ordering: a collective waits for the caller's current stream, runs on the communicator's own
// stream (so it overlaps compute that does not depend on it), and Work::wait() makes the
// current stream wait for it: the caller sees it in stream order, as if it ran there.
// Failure: a watchdog thread polls ncclCommGetAsyncError and the pending collectives; an async
// error or a collective older than the timeout aborts the communicator and ends the whole job
// (MPI_Abort) with one clear line instead of a hang.
#include <memory>

#include "segtrain/dist/communicator.h"

namespace segtrain::dist {

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(const World& world, c10::Device device, const CommunicatorOptions& options);
  ~NcclCommunicator() override;

  c10::Device device() const override { return device_; }
  std::string backend() const override { return "nccl"; }
  std::shared_ptr<Work> allreduce_async(at::Tensor tensor, ReduceOp op) override;
  std::shared_ptr<Work> broadcast_async(at::Tensor tensor, int root) override;
  std::vector<at::Tensor> allgather(const at::Tensor& tensor) override;
  void barrier() override;

  struct State;  // NCCL and CUDA handles, the watchdog: kept out of this header

 private:
  c10::Device device_;
  std::unique_ptr<State> state_;
};

}  // namespace segtrain::dist
