#include "segtrain/dist/nccl_communicator.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <mpi.h>
#include <nccl.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "segtrain/core/error.h"
#include "segtrain/core/stderr_line.h"
#include "segtrain/dist/collective_watchdog.h"
#include "segtrain/dist/world.h"
#include "world_comm.h"

namespace segtrain::dist {
namespace {

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw runtime_error("NCCL", std::string(what) + " failed: " + ncclGetErrorString(rc));
}

// Ends the process if the abort path itself hangs (ncclCommAbort or MPI_Abort waiting on a dead
// peer or a wedged device): armed before them, it never disarms.
void exit_anyway_after(std::chrono::seconds grace) {
  std::thread([grace] {
    std::this_thread::sleep_for(grace);
    std::_Exit(1);
  }).detach();
}

ncclDataType_t nccl_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kChar: return ncclInt8;
    case at::kByte:
    case at::kBool: return ncclUint8;
    default: throw runtime_error("NCCL", std::string("unsupported dtype ") + c10::toString(t));
  }
}

class NcclWork : public Work {
 public:
  NcclWork(std::shared_ptr<at::cuda::CUDAEvent> done, c10::Device device) : done_(std::move(done)), device_(device) {}
  void wait() override { done_->block(c10::cuda::getCurrentCUDAStream(device_.index())); }

 private:
  std::shared_ptr<at::cuda::CUDAEvent> done_;
  c10::Device device_;
};

}  // namespace

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  c10::cuda::CUDAStream stream;
  int rank = 0;
  std::chrono::seconds timeout;
  // Collectives not yet known finished, with their start times; watched by `watchdog`.
  std::mutex mutex;
  std::list<std::pair<std::shared_ptr<at::cuda::CUDAEvent>, std::chrono::steady_clock::time_point>> pending;
  std::atomic<bool> stopping{false};
  std::thread watchdog;

  explicit State(c10::cuda::CUDAStream s) : stream(s) {}

  [[noreturn]] void fail(const std::string& why) {
    write_stderr_line("[rank " + std::to_string(rank) + "] segtrain: error: NCCL: " + why + "; aborting the job");
    exit_anyway_after(std::chrono::seconds(30));
    ncclCommAbort(comm);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
  }

  // The communicator is non-blocking (its setup must be able to time out): a call may return
  // ncclInProgress and finishes when ncclCommGetAsyncError says so. Past `timeout`, fail().
  void finish(ncclResult_t rc, const char* what) {
    const auto start = std::chrono::steady_clock::now();
    while (rc == ncclInProgress) {
      const auto waited = std::chrono::steady_clock::now() - start;
      if (waited > timeout)
        fail(std::string(what) + " did not finish within " + std::to_string(timeout.count()) +
             " s (dist_params.timeout; a rank did not arrive)");
      // A collective is enqueued within microseconds (this is the training step's path): spin;
      // a setup that takes seconds sleeps between looks.
      if (waited < std::chrono::milliseconds(10)) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ncclCommGetAsyncError(comm, &rc);
    }
    check_nccl(rc, what);
  }

  void watch() {
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm, &async);
      if (async != ncclSuccess && async != ncclInProgress)
        fail(std::string("asynchronous error: ") + ncclGetErrorString(async));
      std::lock_guard<std::mutex> lock(mutex);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->first->query()) {
          it = pending.erase(it);
        } else if (now - it->second > timeout) {
          fail("a collective did not finish within " + std::to_string(timeout.count()) +
               " s (a rank died or stopped calling collectives)");
        } else {
          ++it;
        }
      }
    }
  }

  // Runs `call` on the communicator's stream after the current stream's work, returns its Work.
  template <typename Call>
  std::shared_ptr<Work> launch(c10::Device device, const std::vector<at::Tensor>& tensors, Call call) {
    c10::cuda::CUDAGuard guard(device);
    at::cuda::CUDAEvent inputs_ready;
    inputs_ready.record(c10::cuda::getCurrentCUDAStream(device.index()));
    inputs_ready.block(stream);
    call(stream.stream());
    // The caching allocator must not hand these blocks out again before `stream` is done.
    for (const auto& t : tensors) c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), stream);
    auto done = std::make_shared<at::cuda::CUDAEvent>();
    done->record(stream);
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending.emplace_back(done, std::chrono::steady_clock::now());
    }
    return std::make_shared<NcclWork>(done, device);
  }
};

NcclCommunicator::NcclCommunicator(int rank, int size, c10::Device device, const CommunicatorOptions& options)
    : Communicator(rank, size, options.collectives_on_one_rank), device_(device), options_(options) {
  c10::cuda::CUDAGuard guard(device);
  state_ = std::make_unique<State>(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device.index()));
  state_->rank = rank;
  state_->timeout = options.timeout;
}

NcclCommunicator::NcclCommunicator(const World& world, c10::Device device, const CommunicatorOptions& options)
    : NcclCommunicator(world.rank(), world.size(), device, options) {
  c10::cuda::CUDAGuard guard(device);
  // The process watchdog (collective_watchdog.h) also covers the MPI broadcast of the id.
  CollectiveWait wait("ncclCommInitRankConfig");
  ncclUniqueId id;
  if (world.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, mpi_comm(world)) != MPI_SUCCESS)
    throw runtime_error("MPI", "broadcast of the NCCL unique id failed");
  // Non-blocking: a rank that never arrives ends the setup after the timeout instead of never.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  state_->finish(ncclCommInitRankConfig(&state_->comm, world.size(), id, world.rank(), &config),
                 "ncclCommInitRankConfig");
  state_->watchdog = std::thread([s = state_.get()] { s->watch(); });
}

std::shared_ptr<Communicator> NcclCommunicator::duplicate() {
  std::shared_ptr<NcclCommunicator> out(new NcclCommunicator(rank(), size(), device_, options_));
  c10::cuda::CUDAGuard guard(device_);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t rc = ncclCommSplit(state_->comm, /*color=*/0, /*key=*/rank(), &out->state_->comm, &config);
  out->state_->finish(rc, "ncclCommSplit");
  out->state_->watchdog = std::thread([s = out->state_.get()] { s->watch(); });
  return out;
}

NcclCommunicator::~NcclCommunicator() {
  // The watchdog keeps watching while the last collectives drain: a peer gone now still ends the
  // job after the timeout instead of hanging it in this synchronize.
  try {
    state_->stream.synchronize();
  } catch (const std::exception&) {  // a device error: the abort below drops what is left
  }
  state_->stopping = true;
  if (state_->watchdog.joinable()) state_->watchdog.join();
  if (state_->comm == nullptr) return;  // the setup failed before NCCL made one
  ncclResult_t rc = ncclCommFinalize(state_->comm);
  const auto deadline = std::chrono::steady_clock::now() + state_->timeout;
  while (rc == ncclInProgress && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ncclCommGetAsyncError(state_->comm, &rc);
  }
  if (rc == ncclSuccess) {
    ncclCommDestroy(state_->comm);
  } else {
    ncclCommAbort(state_->comm);  // no throwing from a destructor: what is left is dropped
  }
}

std::shared_ptr<Work> NcclCommunicator::allreduce_async(at::Tensor tensor, ReduceOp op) {
  TORCH_CHECK(tensor.device() == device_, "NcclCommunicator: tensor on ", tensor.device(), ", expected ", device_);
  TORCH_CHECK(tensor.is_contiguous(), "NcclCommunicator: tensors must be contiguous");
  const bool integer = !at::isFloatingType(tensor.scalar_type());
  const ncclRedOp_t nccl_op =
      op == ReduceOp::Max ? ncclMax : (op == ReduceOp::Avg && !integer ? ncclAvg : ncclSum);
  auto* comm = state_->comm;
  return state_->launch(device_, {tensor}, [&](cudaStream_t stream) {
    state_->finish(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                                 nccl_type(tensor.scalar_type()), nccl_op, comm, stream),
                   "ncclAllReduce");
    if (op == ReduceOp::Avg && integer) {  // ncclAvg is for floats: sum, then divide on the same stream
      c10::cuda::CUDAStreamGuard on(state_->stream);
      tensor.copy_(tensor.div(size(), "trunc"));
    }
  });
}

std::shared_ptr<Work> NcclCommunicator::broadcast_async(at::Tensor tensor, int root) {
  TORCH_CHECK(tensor.device() == device_ && tensor.is_contiguous(), "NcclCommunicator: bad tensor for broadcast");
  auto* comm = state_->comm;
  return state_->launch(device_, {tensor}, [&](cudaStream_t stream) {
    state_->finish(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                                 nccl_type(tensor.scalar_type()), root, comm, stream),
                   "ncclBroadcast");
  });
}

std::vector<at::Tensor> NcclCommunicator::allgather(const at::Tensor& tensor) {
  TORCH_CHECK(tensor.device() == device_, "NcclCommunicator: tensor on ", tensor.device());
  at::Tensor src = tensor.dim() == 0 ? tensor.reshape({1}).contiguous() : tensor.contiguous();
  // NCCL gathers equal sizes: learn every rank's rows, pad to the largest, gather, cut.
  at::Tensor rows = at::full({1}, src.size(0), src.options().dtype(at::kLong));
  at::Tensor all_rows = at::empty({size()}, rows.options());
  auto* comm = state_->comm;
  state_->launch(device_, {rows, all_rows}, [&](cudaStream_t stream) {
    state_->finish(ncclAllGather(rows.data_ptr(), all_rows.data_ptr(), 1, ncclInt64, comm, stream), "ncclAllGather");
  })->wait();
  // One host copy: both ends of the range must point into the same buffer.
  const at::Tensor host_rows = all_rows.cpu();
  std::vector<int64_t> counts(host_rows.data_ptr<int64_t>(), host_rows.data_ptr<int64_t>() + size());
  const int64_t max_rows = *std::max_element(counts.begin(), counts.end());
  auto padded_shape = src.sizes().vec();
  padded_shape[0] = max_rows;
  at::Tensor padded = at::zeros(padded_shape, src.options());
  padded.narrow(0, 0, src.size(0)).copy_(src);
  auto gathered_shape = padded_shape;
  gathered_shape.insert(gathered_shape.begin(), size());
  at::Tensor gathered = at::empty(gathered_shape, src.options());
  state_->launch(device_, {padded, gathered}, [&](cudaStream_t stream) {
    state_->finish(ncclAllGather(padded.data_ptr(), gathered.data_ptr(), padded.numel(), nccl_type(src.scalar_type()),
                                 comm, stream),
                   "ncclAllGather");
  })->wait();
  std::vector<at::Tensor> out;
  for (int r = 0; r < size(); ++r) out.push_back(gathered[r].narrow(0, 0, counts[r]));
  return out;
}

at::Tensor NcclCommunicator::allgather_same_shape(const at::Tensor& tensor) {
  TORCH_CHECK(tensor.device() == device_, "NcclCommunicator: tensor on ", tensor.device());
  const at::Tensor src = tensor.contiguous();
  auto shape = src.sizes().vec();
  shape.insert(shape.begin(), size());
  at::Tensor all = at::empty(shape, src.options());
  auto* comm = state_->comm;
  state_->launch(device_, {src, all}, [&](cudaStream_t stream) {
    state_->finish(
        ncclAllGather(src.data_ptr(), all.data_ptr(), src.numel(), nccl_type(src.scalar_type()), comm, stream),
        "ncclAllGather");
  })->wait();
  return all;
}

void NcclCommunicator::barrier() {
  at::Tensor one = at::ones({1}, at::TensorOptions().device(device_));
  allreduce(one, ReduceOp::Sum);
  c10::cuda::getCurrentCUDAStream(device_.index()).synchronize();
}

}  // namespace segtrain::dist
