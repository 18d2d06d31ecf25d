#include "segtrain/dist/mpi_communicator.h"

#include <ATen/ATen.h>

#include <atomic>
#include <climits>

#include "segtrain/core/error.h"
#include "segtrain/dist/collective_watchdog.h"
#include "segtrain/dist/world.h"
#include "mpi_half_ops.h"
#include "world_comm.h"

namespace segtrain::dist {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw runtime_error("MPI", std::string(what) + " failed: " + std::string(text, len));
}

// The MPI type that moves (and, where it is arithmetic MPI knows, reduces) this dtype.
MPI_Datatype mpi_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kShort: return MPI_INT16_T;
    case at::kChar: return MPI_INT8_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kBool: return MPI_C_BOOL;
    case at::kHalf:
    case at::kBFloat16: return MPI_UINT16_T;  // bits only: reduced by mpi_half_ops.h
    default: throw runtime_error("MPI", std::string("unsupported dtype ") + c10::toString(t));
  }
}

bool is_half(at::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }

// MPI counts are ints: large tensors go in pieces.
constexpr int64_t kMaxCount = INT_MAX / 2;

class MpiWork : public Work {
 public:
  explicit MpiWork(std::shared_future<void> done, std::shared_ptr<std::atomic<int64_t>> started)
      : done_(std::move(done)), started_(std::move(started)) {}
  void wait() override { done_.get(); }
  std::optional<Clock::time_point> started_at() const override {
    const int64_t ns = started_->load();
    if (ns == 0) return std::nullopt;
    return Clock::time_point(std::chrono::nanoseconds(ns));
  }

 private:
  std::shared_future<void> done_;
  std::shared_ptr<std::atomic<int64_t>> started_;  // steady-clock ns, 0 until the thread starts it
};

void allreduce_now(MPI_Comm comm, at::Tensor& t, ReduceOp op, int size) {
  at::Tensor buf = t.is_contiguous() ? t : t.contiguous();
  // 16-bit floats travel as 16 bits and are added by an operation of ours (mpi_half_ops.h).
  const MPI_Op mpi_op = is_half(buf.scalar_type()) ? half_precision_op(buf.scalar_type(), op == ReduceOp::Max)
                        : op == ReduceOp::Max      ? MPI_MAX
                                                   : MPI_SUM;
  auto* bytes = static_cast<char*>(buf.data_ptr());
  for (int64_t start = 0; start < buf.numel(); start += kMaxCount) {
    int count = static_cast<int>(std::min(kMaxCount, buf.numel() - start));
    CollectiveWait wait("MPI_Allreduce");
    check(MPI_Allreduce(MPI_IN_PLACE, bytes + start * buf.element_size(), count, mpi_type(buf.scalar_type()),
                        mpi_op, comm),
          "MPI_Allreduce");
  }
  if (op == ReduceOp::Avg) {
    if (at::isFloatingType(buf.scalar_type())) buf.div_(size);
    else buf.copy_(buf.div(size, "trunc"));
  }
  if (!buf.is_same(t)) t.copy_(buf);
}

void broadcast_now(MPI_Comm comm, at::Tensor& t, int root) {
  at::Tensor buf = t.is_contiguous() ? t : t.contiguous();
  auto* bytes = static_cast<char*>(buf.data_ptr());
  for (int64_t start = 0; start < buf.numel(); start += kMaxCount) {
    int count = static_cast<int>(std::min(kMaxCount, buf.numel() - start));
    CollectiveWait wait("MPI_Bcast");
    check(MPI_Bcast(bytes + start * buf.element_size(), count, mpi_type(buf.scalar_type()), root, comm),
          "MPI_Bcast");
  }
  if (!buf.is_same(t)) t.copy_(buf);
}

}  // namespace

MpiCommunicator::MpiCommunicator(const World& world, const CommunicatorOptions& options)
    : MpiCommunicator(mpi_comm(world), world.rank(), world.size(), options.collectives_on_one_rank) {}

MpiCommunicator::MpiCommunicator(MPI_Comm parent, int rank, int size, bool collectives_on_one_rank)
    : Communicator(rank, size, collectives_on_one_rank) {
  {
    CollectiveWait wait("MPI_Comm_dup");
    check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
  }
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  thread_ = std::thread([this] { run_jobs(); });
}

MpiCommunicator::~MpiCommunicator() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  thread_.join();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::run_jobs() {
  while (true) {
    std::packaged_task<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return (stopping_ && jobs_.empty()) || (!jobs_.empty() && !busy_); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
    }
    job();  // exceptions land in the job's future
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
    }
    ready_.notify_all();
  }
}

void MpiCommunicator::run_sync(const std::function<void()>& job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!jobs_.empty() || busy_) {
    lock.unlock();
    enqueue(job)->wait();
    return;
  }
  busy_ = true;
  lock.unlock();
  auto release = [this] {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      busy_ = false;
    }
    ready_.notify_all();
  };
  try {
    job();
  } catch (...) {
    release();
    throw;
  }
  release();
}

std::shared_ptr<Work> MpiCommunicator::enqueue(std::function<void()> job) {
  auto started = std::make_shared<std::atomic<int64_t>>(0);
  std::packaged_task<void()> task([job = std::move(job), started] {
    started->store(std::chrono::duration_cast<std::chrono::nanoseconds>(Work::Clock::now().time_since_epoch()).count());
    job();
  });
  auto done = task.get_future().share();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(task));
  }
  ready_.notify_one();
  return std::make_shared<MpiWork>(done, started);
}

std::shared_ptr<Work> MpiCommunicator::allreduce_async(at::Tensor tensor, ReduceOp op) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  if (size() == 1) return enqueue([] {});  // every op is the identity on one rank
  return enqueue([this, tensor, op]() mutable { allreduce_now(comm_, tensor, op, size()); });
}

void MpiCommunicator::allreduce(at::Tensor tensor, ReduceOp op) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  if (size() == 1) return;
  run_sync([&] { allreduce_now(comm_, tensor, op, size()); });
}

void MpiCommunicator::broadcast(at::Tensor tensor, int root) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  run_sync([&] { broadcast_now(comm_, tensor, root); });
}

std::shared_ptr<Work> MpiCommunicator::broadcast_async(at::Tensor tensor, int root) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  return enqueue([this, tensor, root]() mutable { broadcast_now(comm_, tensor, root); });
}

std::vector<at::Tensor> MpiCommunicator::allgather(const at::Tensor& tensor) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  std::vector<at::Tensor> out;
  run_sync([&] {
    at::Tensor src = tensor.dim() == 0 ? tensor.reshape({1}).contiguous() : tensor.contiguous();
    // Sizes first: every rank learns every first dimension.
    std::vector<int64_t> rows(size());
    int64_t my_rows = src.size(0);
    {
      CollectiveWait wait("MPI_Allgather");
      check(MPI_Allgather(&my_rows, 1, MPI_INT64_T, rows.data(), 1, MPI_INT64_T, comm_), "MPI_Allgather");
    }
    int64_t row_numel = 1;
    for (int64_t d = 1; d < src.dim(); ++d) row_numel *= src.size(d);
    std::vector<int> counts(size()), displs(size());
    int64_t total = 0;
    for (int r = 0; r < size(); ++r) {
      TORCH_CHECK(rows[r] * row_numel <= INT_MAX, "allgather: tensor too large for one MPI call");
      counts[r] = static_cast<int>(rows[r] * row_numel);
      displs[r] = static_cast<int>(total);
      total += counts[r];
    }
    TORCH_CHECK(total <= INT_MAX, "allgather: result too large for one MPI call");
    at::Tensor all = at::empty({total}, src.options());
    MPI_Datatype type = mpi_type(src.scalar_type());
    {
      CollectiveWait wait("MPI_Allgatherv");
      check(MPI_Allgatherv(src.data_ptr(), counts[rank()], type, all.data_ptr(), counts.data(), displs.data(), type,
                           comm_),
            "MPI_Allgatherv");
    }
    auto shape = src.sizes().vec();
    for (int r = 0; r < size(); ++r) {
      shape[0] = rows[r];
      out.push_back(all.narrow(0, displs[r], counts[r]).view(shape));
    }
  });
  return out;
}

at::Tensor MpiCommunicator::allgather_same_shape(const at::Tensor& tensor) {
  TORCH_CHECK(tensor.device().is_cpu(), "MpiCommunicator: tensor on ", tensor.device());
  const at::Tensor src = tensor.contiguous();
  TORCH_CHECK(src.numel() <= INT_MAX, "allgather: tensor too large for one MPI call");
  auto shape = src.sizes().vec();
  shape.insert(shape.begin(), size());
  at::Tensor all = at::empty(shape, src.options());
  run_sync([&] {
    const MPI_Datatype type = mpi_type(src.scalar_type());
    CollectiveWait wait("MPI_Allgather");
    check(MPI_Allgather(src.data_ptr(), static_cast<int>(src.numel()), type, all.data_ptr(),
                        static_cast<int>(src.numel()), type, comm_),
          "MPI_Allgather");
  });
  return all;
}

std::shared_ptr<Communicator> MpiCommunicator::duplicate() {
  std::shared_ptr<Communicator> out;
  // In turn with what is queued: MPI_Comm_dup is a collective on comm_.
  run_sync([&] { out.reset(new MpiCommunicator(comm_, rank(), size(), collectives_on_one_rank())); });
  return out;
}

void MpiCommunicator::barrier() {
  run_sync([this] {
    CollectiveWait wait("MPI_Barrier");
    check(MPI_Barrier(comm_), "MPI_Barrier");
  });
}

}  // namespace segtrain::dist
