// Every collective and dtype against a reference computed locally: each rank can build every
// other rank's input, so the expected result needs no communication.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dist_test_env.h"
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
