// SyncBN on N ranks equals torch::nn::BatchNorm2d on the concatenated batch in one process:
// output, input/weight/bias gradients and running statistics, with unequal and zero per-rank
// batch sizes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist_test_env.h"
#include "segtrain/dist/sync_batch_norm.h"

using namespace segtrain;
using segtrain::testing::cpu_comm;

namespace {

constexpr int64_t kChannels = 5, kH = 3, kW = 4;

// Relative closeness with an absolute floor for values near zero.
::testing::AssertionResult close(const torch::Tensor& a, const torch::Tensor& b, double rtol = 1e-5) {
  if (a.sizes() != b.sizes()) return ::testing::AssertionFailure() << "shapes " << a.sizes() << " vs " << b.sizes();
  if (a.numel() == 0) return ::testing::AssertionSuccess();
  auto diff = (a - b).abs().max().item<double>();
  auto scale = std::max(1.0, b.abs().max().item<double>());
  if (diff <= rtol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max diff " << diff << " (scale " << scale << ")";
}

// Returns SyncBN's output on this rank (its autograd node tells which path ran).
torch::Tensor check_against_batchnorm(const std::vector<int64_t>& batch_of_rank, torch::Dtype dtype,
                                      std::shared_ptr<dist::Communicator> comm = cpu_comm()) {
  const int rank = comm->rank();
  torch::manual_seed(1234);  // the same global batch on every rank
  int64_t total = 0, start = 0;
  for (int r = 0; r < comm->size(); ++r) {
    if (r == rank) start = total;
    total += batch_of_rank[r];
  }
  auto x_all = (torch::randn({total, kChannels, kH, kW}) * 3 + 1).to(dtype);
  auto g_all = torch::randn({total, kChannels, kH, kW}).to(dtype);  // d loss / d output
  auto weight = torch::rand({kChannels}).to(dtype) + 0.5, bias = torch::randn({kChannels}).to(dtype);

  // Reference: one process, the whole batch.
  torch::nn::BatchNorm2d ref(torch::nn::BatchNorm2dOptions(kChannels).eps(1e-5).momentum(0.1));
  ref->to(dtype);
  {
    torch::NoGradGuard ng;
    ref->weight.copy_(weight);
    ref->bias.copy_(bias);
  }
  auto x_ref = x_all.clone().requires_grad_();
  auto y_ref = ref->forward(x_ref);
  (y_ref * g_all).sum().backward();

  // SyncBN: this rank's slice.
  dist::SyncBatchNorm sbn(kChannels, comm);
  sbn->to(dtype);
  {
    torch::NoGradGuard ng;
    sbn->weight.copy_(weight);
    sbn->bias.copy_(bias);
  }
  auto x = x_all.narrow(0, start, batch_of_rank[rank]).clone().requires_grad_();
  auto y = sbn->forward(x);
  (y * g_all.narrow(0, start, batch_of_rank[rank])).sum().backward();
  // Each rank's weight/bias gradient is its share; the shares add up to the whole.
  // (Collectives first, checks after: a failing check must not leave a rank behind.)
  auto gw = sbn->weight.grad().clone(), gb = sbn->bias.grad().clone();
  comm->allreduce(gw, dist::ReduceOp::Sum);
  comm->allreduce(gb, dist::ReduceOp::Sum);

  const double tol = dtype == torch::kDouble ? 1e-10 : 1e-5;
  EXPECT_TRUE(close(y, y_ref.narrow(0, start, batch_of_rank[rank]), tol));
  EXPECT_TRUE(close(x.grad(), x_ref.grad().narrow(0, start, batch_of_rank[rank]), tol));
  EXPECT_TRUE(close(gw, ref->weight.grad(), tol));
  EXPECT_TRUE(close(gb, ref->bias.grad(), tol));
  EXPECT_TRUE(close(sbn->running_mean, ref->running_mean, tol));
  EXPECT_TRUE(close(sbn->running_var, ref->running_var, tol));
  EXPECT_EQ(sbn->num_batches_tracked.item<int64_t>(), 1);
  return y;
}

}  // namespace

TEST(SyncBatchNorm, EqualBatches) {
  check_against_batchnorm(std::vector<int64_t>(cpu_comm()->size(), 2), torch::kFloat);
}

TEST(SyncBatchNorm, UnequalAndZeroBatches) {
  std::vector<int64_t> sizes;
  for (int r = 0; r < cpu_comm()->size(); ++r) sizes.push_back((r * 3 + 1) % 4);  // 1, 0, 3, 2 ...
  check_against_batchnorm(sizes, torch::kFloat);
}

TEST(SyncBatchNorm, Float64) {
  std::vector<int64_t> sizes;
  for (int r = 0; r < cpu_comm()->size(); ++r) sizes.push_back(r + 1);
  check_against_batchnorm(sizes, torch::kDouble);
}

TEST(SyncBatchNorm, EvalUsesRunningStatistics) {
  auto comm = cpu_comm();
  dist::SyncBatchNorm sbn(kChannels, comm);
  torch::nn::BatchNorm2d ref(kChannels);
  {
    torch::NoGradGuard ng;
    auto rm = torch::randn({kChannels}), rv = torch::rand({kChannels}) + 0.5;
    sbn->running_mean.copy_(rm);
    sbn->running_var.copy_(rv);
    ref->running_mean.copy_(rm);
    ref->running_var.copy_(rv);
  }
  sbn->eval();
  ref->eval();
  auto x = torch::randn({1 + comm->rank(), kChannels, kH, kW});  // different per rank: no communication
  EXPECT_TRUE(torch::equal(sbn->forward(x), ref->forward(x)));
}

TEST(SyncBatchNorm, WorldOfOneIsBatchNorm) {
  // No communicator (or a world of one): exactly at::batch_norm.
  dist::SyncBatchNorm sbn(kChannels);
  torch::nn::BatchNorm2d ref(kChannels);
  torch::manual_seed(7);
  auto x = torch::randn({3, kChannels, kH, kW});
  EXPECT_TRUE(torch::equal(sbn->forward(x), ref->forward(x)));
  EXPECT_TRUE(torch::equal(sbn->running_var, ref->running_var));
}

TEST(SyncBatchNorm, CollectivesOnOneRankTakeTheSynchronizedPath) {
  // dist_params.collectives_on_one_rank: at any world size, the statistics go through the
  // communicator (the one-GPU check runs NCCL this way) and still equal BatchNorm2d.
  dist::CommunicatorOptions options;
  options.collectives_on_one_rank = true;
  auto comm = dist::make_communicator(segtrain::testing::world(), c10::Device(c10::kCPU), options);
  ASSERT_TRUE(comm->communicates());
  auto y = check_against_batchnorm(std::vector<int64_t>(comm->size(), 2), torch::kFloat, comm);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_NE(y.grad_fn()->name().find("SyncBatchNorm"), std::string::npos) << y.grad_fn()->name();
}

TEST(SyncBatchNorm, StateDictNamesMatchBatchNorm2d) {
  dist::SyncBatchNorm sbn(kChannels);
  torch::nn::BatchNorm2d ref(kChannels);
  std::vector<std::string> a, b;
  for (const auto& item : sbn->named_parameters()) a.push_back(item.key());
  for (const auto& item : sbn->named_buffers()) a.push_back(item.key());
  for (const auto& item : ref->named_parameters()) b.push_back(item.key());
  for (const auto& item : ref->named_buffers()) b.push_back(item.key());
  EXPECT_EQ(a, b);
}
