#pragma once
// Collectives on torch tensors, behind one interface with a backend per transport:
//   MpiCommunicator  - CPU tensors, over MPI (its own duplicate of MPI_COMM_WORLD)
//   NcclCommunicator - CUDA tensors, over NCCL (unique id broadcast through MPI)
// Nothing above dist/ knows which one runs.
//
// Every call here is collective: all ranks make the same calls in the same order, with
// tensors of the same dtype and, except for allgather's first dimension, the same shape.
// Async calls return a Work; the synchronous ones are async + wait().
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segtrain::dist {

class World;

enum class ReduceOp { Sum, Avg, Max };

// A collective in flight. wait() returns once its result may be used: on CPU when the data is
// there; on CUDA when the current stream is ordered after it.
class Work {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Work() = default;
  virtual void wait() = 0;
  // When the transport began moving data, where the backend can tell (MPI); else nullopt.
  virtual std::optional<Clock::time_point> started_at() const { return std::nullopt; }
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  int rank() const { return rank_; }
  int size() const { return size_; }
  virtual c10::Device device() const = 0;
  virtual std::string backend() const = 0;

  // In place. Avg of integer tensors truncates toward zero.
  virtual std::shared_ptr<Work> allreduce_async(at::Tensor tensor, ReduceOp op) = 0;
  virtual std::shared_ptr<Work> broadcast_async(at::Tensor tensor, int root) = 0;
  // Every rank's tensor, in rank order; their first dimensions may differ.
  virtual std::vector<at::Tensor> allgather(const at::Tensor& tensor) = 0;
  // Every rank's tensor stacked in rank order: [size(), *tensor.sizes()]. The shape must be the
  // same on every rank, so one collective does it, with no size exchange and (on CUDA) no wait
  // for the host: SyncBN's statistics.
  virtual at::Tensor allgather_same_shape(const at::Tensor& tensor) = 0;
  virtual void barrier() = 0;

  // Synchronous forms; a backend may run them on the calling thread when nothing is queued.
  virtual void allreduce(at::Tensor tensor, ReduceOp op) { allreduce_async(std::move(tensor), op)->wait(); }
  virtual void broadcast(at::Tensor tensor, int root) { broadcast_async(std::move(tensor), root)->wait(); }

  // A new communicator over the same ranks and device whose collectives never pair with this
  // one's (its own MPI communicator; its own NCCL communicator and stream): the gradient reducer
  // issues its buckets on one, so that SyncBN's collectives cannot meet them out of order.
  virtual std::shared_ptr<Communicator> duplicate() = 0;

  // Whether SyncBN and the gradient reducer should communicate: with other ranks, or alone when
  // CommunicatorOptions::collectives_on_one_rank asks it (tests: every collective code path on
  // one GPU).
  bool communicates() const { return size_ > 1 || on_one_rank_; }

 protected:
  Communicator(int rank, int size, bool collectives_on_one_rank)
      : rank_(rank), size_(size), on_one_rank_(collectives_on_one_rank) {}
  bool collectives_on_one_rank() const { return on_one_rank_; }

 private:
  int rank_, size_;
  bool on_one_rank_;
};

struct CommunicatorOptions {
  // A collective unfinished after this long ends the job (NCCL: also the communicator's setup).
  std::chrono::seconds timeout{1800};
  // dist_params.collectives_on_one_rank: SyncBN and the reducer communicate at world size 1 too.
  bool collectives_on_one_rank = false;
};

// The backend for `device`: NCCL for CUDA devices (when built with CUDA), else MPI.
std::shared_ptr<Communicator> make_communicator(const World& world, c10::Device device,
                                                const CommunicatorOptions& options = {});

// Rank `root`'s bytes on every rank (a config text, a seed, a checkpoint read once).
std::string broadcast_bytes(const World& world, std::string bytes, int root = 0);

}  // namespace segtrain::dist
