#pragma once
// The NCCL backend for CUDA tensors (built when torch has CUDA).
// Rendezvous: rank 0 makes the unique id (ncclGetUniqueId), MPI_Bcast hands it to every rank,
// each calls ncclCommInitRankConfig (non-blocking, so that a rank that never arrives ends the
// setup after dist_params.timeout) on its own GPU (device.h). No TCP store, no port.
// Ordering: a collective waits for the caller's current stream, runs on the communicator's own
// stream (so it overlaps compute that does not depend on it), and Work::wait() makes the
// current stream wait for it: the caller sees it in stream order, as if it ran there.
// Failure: a watchdog thread polls ncclCommGetAsyncError and the pending collectives; an async
// error or a collective older than the timeout aborts the communicator and ends the whole job
// (MPI_Abort) with one clear line instead of a hang; should the abort itself hang, the process
// ends 30 s later all the same.
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
  at::Tensor allgather_same_shape(const at::Tensor& tensor) override;
  void barrier() override;
  // ncclCommSplit of this communicator, non-blocking under the same timeout.
  std::shared_ptr<Communicator> duplicate() override;

  struct State;  // NCCL and CUDA handles, the watchdog: kept out of this header

 private:
  // The stream and settings, without an NCCL communicator yet.
  NcclCommunicator(int rank, int size, c10::Device device, const CommunicatorOptions& options);
  c10::Device device_;
  CommunicatorOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace segtrain::dist
