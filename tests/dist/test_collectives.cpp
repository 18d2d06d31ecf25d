// Every collective and dtype against a reference computed locally: each rank can build every
// other rank's input, so the expected result needs no communication.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dist_test_env.h"
#include "segtrain/dist/device.h"
#include "segtrain/eval/seg_metrics.h"

using namespace segtrain;
using segtrain::dist::ReduceOp;
using segtrain::testing::cpu_comm;
using segtrain::testing::world;

namespace {

const std::vector<at::ScalarType> kDtypes = {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16,
                                             at::kLong,  at::kInt,    at::kByte};
const std::vector<int64_t> kSizes = {1, 7, 1023, 100003};

// Rank r's input: small integers (exact in every dtype, sums stay below 256 for uint8).
at::Tensor input_of(int rank, int64_t n, at::ScalarType dtype) {
  return ((at::arange(n, at::kLong) * (rank + 3) + 5 * rank) % 29).to(dtype);
}

at::Tensor expected(ReduceOp op, int64_t n, at::ScalarType dtype, int size) {
  at::Tensor acc = input_of(0, n, at::kDouble);
  for (int r = 1; r < size; ++r) {
    at::Tensor x = input_of(r, n, at::kDouble);
    acc = op == ReduceOp::Max ? at::maximum(acc, x) : acc + x;
  }
  if (op == ReduceOp::Avg) acc = at::isFloatingType(dtype) ? acc / size : at::trunc(acc / size);
  return acc.to(dtype);
}

}  // namespace

TEST(Collectives, AllreduceEveryOpDtypeAndSize) {
  auto comm = cpu_comm();
  for (auto dtype : kDtypes)
    for (int64_t n : kSizes)
      for (auto op : {ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max}) {
        at::Tensor t = input_of(comm->rank(), n, dtype);
        comm->allreduce(t, op);
        at::Tensor want = expected(op, n, dtype, comm->size());
        EXPECT_TRUE(at::allclose(t.to(at::kDouble), want.to(at::kDouble), 1e-3, 1e-3))
            << c10::toString(dtype) << " n=" << n << " op=" << static_cast<int>(op);
      }
}

TEST(Collectives, AllreduceNonContiguousInPlace) {
  auto comm = cpu_comm();
  at::Tensor base = input_of(comm->rank(), 6 * 5, at::kFloat).view({6, 5});
  at::Tensor t = base.t();  // a transposed view
  ASSERT_FALSE(t.is_contiguous());
  comm->allreduce(t, ReduceOp::Sum);
  at::Tensor want = expected(ReduceOp::Sum, 30, at::kFloat, comm->size()).view({6, 5});
  EXPECT_TRUE(at::equal(base, want));
}

TEST(Collectives, AsyncWorkCompletesInOrder) {
  auto comm = cpu_comm();
  std::vector<at::Tensor> ts;
  std::vector<std::shared_ptr<dist::Work>> works;
  for (int i = 0; i < 8; ++i) {
    ts.push_back(at::full({1000}, comm->rank() + i, at::kDouble));
    works.push_back(comm->allreduce_async(ts.back(), ReduceOp::Sum));
  }
  const double ranks = comm->size() * (comm->size() - 1) / 2.0;
  for (int i = 0; i < 8; ++i) {
    works[i]->wait();
    EXPECT_EQ(ts[i][999].item<double>(), ranks + comm->size() * i);
  }
}

TEST(Collectives, BroadcastEveryDtypeFromEveryRoot) {
  auto comm = cpu_comm();
  for (int root = 0; root < comm->size(); ++root)
    for (auto dtype : kDtypes) {
      at::Tensor t = input_of(comm->rank(), 1023, dtype);
      comm->broadcast(t, root);
      EXPECT_TRUE(at::equal(t, input_of(root, 1023, dtype))) << c10::toString(dtype) << " root " << root;
    }
}

TEST(Collectives, AllgatherUnequalSizesIncludingEmpty) {
  auto comm = cpu_comm();
  for (auto dtype : kDtypes) {
    // Rank r holds r rows of 3: rank 0 holds none.
    auto rows_of = [](int r) { return static_cast<int64_t>(r); };
    at::Tensor mine = input_of(comm->rank(), rows_of(comm->rank()) * 3, dtype).view({rows_of(comm->rank()), 3});
    auto all = comm->allgather(mine);
    ASSERT_EQ(static_cast<int>(all.size()), comm->size());
    for (int r = 0; r < comm->size(); ++r) {
      EXPECT_EQ(all[r].sizes(), (std::vector<int64_t>{rows_of(r), 3}));
      EXPECT_TRUE(at::equal(all[r], input_of(r, rows_of(r) * 3, dtype).view({rows_of(r), 3}))) << c10::toString(dtype);
    }
  }
}

TEST(Collectives, AllgatherSameShapeStacksInRankOrder) {
  auto comm = cpu_comm();
  for (auto dtype : kDtypes) {
    at::Tensor mine = input_of(comm->rank(), 12, dtype).view({3, 4});
    at::Tensor all = comm->allgather_same_shape(mine);
    EXPECT_EQ(all.sizes(), (std::vector<int64_t>{comm->size(), 3, 4}));
    for (int r = 0; r < comm->size(); ++r)
      EXPECT_TRUE(at::equal(all[r], input_of(r, 12, dtype).view({3, 4}))) << c10::toString(dtype) << " rank " << r;
  }
}

TEST(Collectives, DuplicateIsIndependentAndAlike) {
  auto comm = cpu_comm();
  auto twin = comm->duplicate();
  EXPECT_EQ(twin->rank(), comm->rank());
  EXPECT_EQ(twin->size(), comm->size());
  EXPECT_EQ(twin->backend(), comm->backend());
  // In flight on both at once, in a different order on each: they never pair with each other.
  at::Tensor a = input_of(comm->rank(), 1023, at::kFloat), b = input_of(comm->rank(), 7, at::kFloat);
  auto on_twin = twin->allreduce_async(b, ReduceOp::Sum);
  comm->allreduce(a, ReduceOp::Sum);
  on_twin->wait();
  EXPECT_TRUE(at::equal(a, expected(ReduceOp::Sum, 1023, at::kFloat, comm->size())));
  EXPECT_TRUE(at::equal(b, expected(ReduceOp::Sum, 7, at::kFloat, comm->size())));
}

// The device's own backend (NCCL on a GPU; the GPU check runs this binary there): the same
// results as on the CPU, unequal allgather sizes and a duplicate included.
TEST(Collectives, OnThisRanksDevice) {
  const c10::Device device = dist::select_device(world());
  if (!device.is_cuda()) GTEST_SKIP() << "no GPU: the CPU backend is the one tested above";
  auto comm = dist::make_communicator(world(), device);
  EXPECT_EQ(comm->backend(), "nccl");
  for (auto op : {ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max}) {
    at::Tensor t = input_of(comm->rank(), 100003, at::kFloat).to(device);
    comm->allreduce(t, op);
    EXPECT_TRUE(at::equal(t.cpu(), expected(op, 100003, at::kFloat, comm->size())));
  }
  at::Tensor rows = input_of(comm->rank(), comm->rank() * 3, at::kFloat).view({comm->rank(), 3}).to(device);
  auto all = comm->allgather(rows);
  ASSERT_EQ(static_cast<int>(all.size()), comm->size());
  for (int r = 0; r < comm->size(); ++r)
    EXPECT_TRUE(at::equal(all[r].cpu(), input_of(r, r * 3, at::kFloat).view({r, 3})));
  at::Tensor stacked = comm->allgather_same_shape(input_of(comm->rank(), 12, at::kFloat).to(device));
  for (int r = 0; r < comm->size(); ++r) EXPECT_TRUE(at::equal(stacked[r].cpu(), input_of(r, 12, at::kFloat)));
  auto twin = comm->duplicate();
  at::Tensor b = input_of(comm->rank(), 7, at::kFloat).to(device);
  twin->broadcast(b, 0);
  EXPECT_TRUE(at::equal(b.cpu(), input_of(0, 7, at::kFloat)));
}

TEST(Collectives, Barrier) {
  auto comm = cpu_comm();
  for (int i = 0; i < 3; ++i) comm->barrier();
  SUCCEED();
}

TEST(Collectives, BroadcastBytes) {
  std::string blob = world().rank() == 0 ? std::string(3'000'001, 'x') + "end" : "ignored";
  std::string got = dist::broadcast_bytes(world(), blob);
  EXPECT_EQ(got.size(), 3'000'004u);
  EXPECT_EQ(got.substr(got.size() - 3), "end");
}

TEST(SegHistogram, ReduceSumsEveryRanksSamples) {
  auto comm = cpu_comm();
  // Every rank builds all samples; each adds only its own, then the reduce must equal all.
  std::vector<at::Tensor> preds, labels;
  for (int i = 0; i < 6; ++i) {
    at::Tensor label = (at::arange(40) * (i + 1) % 5).view({5, 8});
    labels.push_back(label);
    preds.push_back((label + (at::arange(40).view({5, 8}) % 3 == 0).to(at::kLong)) % 5);
  }
  eval::SegHistogram mine(5), all(5);
  for (int i = 0; i < 6; ++i) {
    if (i % comm->size() == comm->rank()) mine.add(preds[i], labels[i]);
    all.add(preds[i], labels[i]);
  }
  mine.reduce(*comm);
  EXPECT_TRUE(at::equal(mine.areas(), all.areas()));
  EXPECT_DOUBLE_EQ(mine.metrics().mIoU, all.metrics().mIoU);
}
