#pragma once
// The MPI backend for CPU tensors. Collectives run on one communication thread per
// communicator, in the order they were issued, so the caller (the autograd engine during
// backward) keeps computing while MPI moves data: that is how gradient reduction overlaps
// backward on CPU. The communicator uses its own MPI_Comm, so its traffic never meets
// World's barriers and broadcasts from the training thread (MPI_THREAD_MULTIPLE).
// A synchronous call made while nothing is queued or running runs on the calling thread
// instead: small latency-bound collectives (SyncBN's statistics) skip the thread hand-off.
#include <mpi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "segtrain/dist/communicator.h"

namespace segtrain::dist {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(const World& world, const CommunicatorOptions& options = {});
  ~MpiCommunicator() override;

  c10::Device device() const override { return c10::Device(c10::kCPU); }
  std::string backend() const override { return "mpi"; }
  std::shared_ptr<Work> allreduce_async(at::Tensor tensor, ReduceOp op) override;
  std::shared_ptr<Work> broadcast_async(at::Tensor tensor, int root) override;
  void allreduce(at::Tensor tensor, ReduceOp op) override;
  void broadcast(at::Tensor tensor, int root) override;
  std::vector<at::Tensor> allgather(const at::Tensor& tensor) override;
  at::Tensor allgather_same_shape(const at::Tensor& tensor) override;
  void barrier() override;
  std::shared_ptr<Communicator> duplicate() override;

 private:
  // Over a duplicate of `parent` (collective over it).
  MpiCommunicator(MPI_Comm parent, int rank, int size, bool collectives_on_one_rank);
  std::shared_ptr<Work> enqueue(std::function<void()> job);
  // Runs `job` here if the communicator is idle, else after what is queued; returns when done.
  void run_sync(const std::function<void()>& job);
  void run_jobs();

  MPI_Comm comm_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> jobs_;
  bool busy_ = false;  // a job is running (on the thread or inline): collectives never interleave
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace segtrain::dist
