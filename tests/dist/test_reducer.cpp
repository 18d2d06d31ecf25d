// The gradient reducer: data-parallel training equals one process on the whole batch,
// communication overlaps backward, unused parameters, gradient accumulation, bucketing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist_test_env.h"
#include "segtrain/dist/reducer.h"
#include "segtrain/dist/sync_batch_norm.h"

using namespace segtrain;
using segtrain::testing::cpu_comm;

namespace {

// A small conv net with SyncBN; with no communicator its SyncBN is plain BatchNorm.
struct NetImpl : torch::nn::Module {
  NetImpl(std::shared_ptr<dist::Communicator> comm, int depth = 2, int width = 8, bool with_unused = false) {
    int in = 3;
    for (int i = 0; i < depth; ++i) {
      convs.push_back(register_module("conv" + std::to_string(i),
                                      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, width, 3).padding(1))));
      bns.push_back(register_module("bn" + std::to_string(i), dist::SyncBatchNorm(width, comm)));
      in = width;
    }
    head = register_module("head", torch::nn::Conv2d(width, 4, 1));
    if (with_unused) unused = register_module("unused", torch::nn::Linear(3, 3));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < convs.size(); ++i) x = torch::relu(bns[i]->forward(convs[i]->forward(x)));
    return head->forward(x);
  }
  std::vector<torch::nn::Conv2d> convs;
  std::vector<dist::SyncBatchNorm> bns;
  torch::nn::Conv2d head{nullptr};
  torch::nn::Linear unused{nullptr};
};
TORCH_MODULE(Net);

std::vector<std::pair<std::string, at::Tensor>> named(torch::nn::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

constexpr int64_t kLocalBatch = 2, kSize = 8;

}  // namespace

TEST(Reducer, RanksTimesBatchEqualsOneProcessWithTheWholeBatch) {
  auto comm = cpu_comm();
  const int64_t global_batch = kLocalBatch * comm->size();
  torch::manual_seed(0);
  Net model(comm);
  torch::manual_seed(0);
  Net reference(std::shared_ptr<dist::Communicator>{});  // same initial weights, plain BatchNorm
  dist::broadcast_module_state(*model, *comm);
  dist::Reducer reducer(named(*model), comm);
  auto options = torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3);
  torch::optim::SGD opt(model->parameters(), options), ref_opt(reference->parameters(), options);

  for (int step = 0; step < 5; ++step) {
    torch::manual_seed(100 + step);  // the same global batch on every rank
    auto x = torch::randn({global_batch, 3, kSize, kSize}), target = torch::randn({global_batch, 4, kSize, kSize});
    auto mine = [&](const torch::Tensor& t) { return t.narrow(0, comm->rank() * kLocalBatch, kLocalBatch); };
    opt.zero_grad();
    torch::mse_loss(model->forward(mine(x)), mine(target)).backward();
    opt.step();
    ref_opt.zero_grad();
    torch::mse_loss(reference->forward(x), target).backward();
    ref_opt.step();
  }
  auto params = model->named_parameters(), ref_params = reference->named_parameters();
  for (const auto& item : params) {
    const auto& want = ref_params[item.key()];
    double diff = (item.value() - want).abs().max().item<double>();
    double scale = std::max(1e-3, want.abs().max().item<double>());
    EXPECT_LE(diff / scale, 1e-5) << item.key();
  }
  for (const auto& item : model->named_buffers()) {
    if (item.key().find("running") == std::string::npos) continue;
    double diff = (item.value() - reference->named_buffers()[item.key()]).abs().max().item<double>();
    EXPECT_LE(diff, 1e-5) << item.key();
  }
}

TEST(Reducer, BucketsFollowReverseRegistrationOrderAndSizes) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, /*depth=*/6, /*width=*/16);
  // conv 16x16x3x3 floats = 9216 bytes: a 4 KB first bucket closes after one such tensor.
  dist::Reducer reducer(named(*model), comm, {.first_bucket_bytes = 4096, .bucket_bytes = 20000});
  auto buckets = reducer.bucket_names();
  ASSERT_GE(buckets.size(), 3u);
  EXPECT_EQ(buckets.front().front(), "head.bias");  // registered last, produced first
  EXPECT_EQ(buckets.back().back(), "conv0.weight");
  std::size_t total = 0;
  for (const auto& b : buckets) total += b.size();
  EXPECT_EQ(total, model->parameters().size());
}

TEST(Reducer, CommunicationOverlapsBackward) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, /*depth=*/8, /*width=*/32);
  dist::Reducer reducer(named(*model), comm, {.first_bucket_bytes = 1024, .bucket_bytes = 40000});
  ASSERT_GE(reducer.num_buckets(), 4u);
  torch::manual_seed(1);
  auto x = torch::randn({kLocalBatch, 3, 40, 40});  // backward long enough (tens of ms) to observe
  model->forward(x).pow(2).mean().backward();
  const auto& t = reducer.timeline();
  // The first bucket was handed over, and MPI started moving it, before backward was over.
  EXPECT_LT(t.bucket_launched.front(), t.backward_finished);
  ASSERT_TRUE(t.bucket_started.front().has_value());
  EXPECT_LT(*t.bucket_started.front(), t.backward_finished);
  EXPECT_LE(t.backward_finished, t.synchronized);
}

TEST(Reducer, UnusedParameterIsAnErrorNamingIt) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 2, 8, /*with_unused=*/true);
  dist::Reducer reducer(named(*model), comm);
  auto x = torch::randn({kLocalBatch, 3, kSize, kSize});
  try {
    model->forward(x).sum().backward();
    ADD_FAILURE() << "expected an error about unused parameters";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("unused.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("find_unused_parameters"), std::string::npos) << e.what();
  }
  // The reducer is ready for the next pass after the error.
  EXPECT_ANY_THROW(model->forward(x).sum().backward());
}

// DDP's rule: a parameter no rank used keeps no gradient, and SGD with momentum and weight decay
// leaves it where it was (a zero gradient would have moved it by the weight decay).
TEST(Reducer, AParameterNoRankUsesKeepsNoGradientAndDoesNotMove) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 2, 8, /*with_unused=*/true);
  dist::Reducer reducer(named(*model), comm, {.find_unused_parameters = true});
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
  const auto before = model->unused->weight.clone();
  torch::manual_seed(5 + comm->rank());
  for (int step = 0; step < 2; ++step) {
    sgd.zero_grad(/*set_to_none=*/false);
    EXPECT_NO_THROW(model->forward(torch::randn({kLocalBatch, 3, kSize, kSize})).sum().backward());
    EXPECT_FALSE(model->unused->weight.grad().defined());
    EXPECT_GT(model->head->weight.grad().abs().sum().item<double>(), 0.0);
    sgd.step();
  }
  EXPECT_TRUE(torch::equal(model->unused->weight, before));
}

// Used on rank 0 only: the average counts the other ranks' zeros (rank 0's gradient / size).
TEST(Reducer, AParameterOneRankUsesIsAveragedWithZeros) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 2, 8, /*with_unused=*/true);
  dist::Reducer reducer(named(*model), comm, {.find_unused_parameters = true});
  torch::manual_seed(5 + comm->rank());
  auto x = torch::randn({kLocalBatch, 3, kSize, kSize});
  auto loss = model->forward(x).sum();
  const auto probe = torch::ones({1, 3});
  if (comm->rank() == 0) loss = loss + model->unused->forward(probe).sum();
  loss.backward();
  ASSERT_TRUE(model->unused->weight.grad().defined());
  // d(sum(W p + b))/dW = p broadcast over the rows: ones on rank 0, divided by the ranks.
  EXPECT_TRUE(torch::allclose(model->unused->weight.grad(), torch::ones({3, 3}) / comm->size()));
}

// A bucket holding only a parameter rank 0 alone uses is ready early in rank 0's backward but
// only at the end of the others', so it is issued at different points relative to SyncBN's
// backward allreduces. On one communicator the ranks' collectives pair up wrongly (Open MPI
// sums mismatched buffers without a word; NCCL hangs); the reducer has a communicator of its
// own. Checked against one process on the whole batch: gradients / ranks.
TEST(Reducer, UsageThatDiffersBetweenRanksKeepsSyncBNsCollectivesInStep) {
  auto comm = cpu_comm();
  const int n = comm->size();
  torch::manual_seed(0);
  Net model(comm, 3, 8, /*with_unused=*/true);
  torch::manual_seed(0);
  Net reference(std::shared_ptr<dist::Communicator>{}, 3, 8, /*with_unused=*/true);
  // Tiny buckets: the unused Linear (registered last: reduced first) gets buckets of its own.
  dist::Reducer reducer(named(*model), comm,
                        {.first_bucket_bytes = 1, .bucket_bytes = 1, .find_unused_parameters = true});
  std::vector<torch::Tensor> inputs;
  for (int r = 0; r < n; ++r) {
    torch::manual_seed(5 + r);
    inputs.push_back(torch::randn({kLocalBatch, 3, kSize, kSize}));
  }
  const auto probe = torch::ones({1, 3});
  auto loss = model->forward(inputs[comm->rank()]).sum();
  if (comm->rank() == 0) loss = loss + model->unused->forward(probe).sum();
  EXPECT_NO_THROW(loss.backward());
  (reference->forward(torch::cat(inputs)).sum() + reference->unused->forward(probe).sum()).backward();
  auto ref_params = reference->named_parameters();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    const auto want = ref_params[item.key()].grad() / n;
    const double diff = (item.value().grad() - want).abs().max().item<double>();
    EXPECT_LE(diff, 1e-4 * std::max(1.0, want.abs().max().item<double>())) << item.key();  // wrong pairs: > 1
  }
}

// The gradients are views of the reducer's buckets and stay so when zeroed in place between
// iterations (what the Runner does with a reducer): the next backward accumulates into the
// buckets, with no fresh gradient tensors and no copies.
TEST(Reducer, GradientsZeroedInPlaceStayBucketViews) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 2, 8);
  dist::Reducer reducer(named(*model), comm);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  std::map<std::string, const void*> first;
  for (int step = 0; step < 3; ++step) {
    sgd.zero_grad(/*set_to_none=*/false);
    model->forward(torch::randn({kLocalBatch, 3, kSize, kSize})).sum().backward();
    for (const auto& item : model->named_parameters()) {
      const void* at = item.value().grad().data_ptr();
      if (step == 0) first[item.key()] = at;
      else EXPECT_EQ(at, first[item.key()]) << item.key() << " at step " << step;
    }
    sgd.step();
  }
  // Parameters of one bucket share one storage.
  auto params = model->named_parameters();
  for (const auto& bucket : reducer.bucket_names())
    for (const auto& name : bucket)
      EXPECT_TRUE(params[name].grad().storage().is_alias_of(params[bucket.front()].grad().storage())) << name;
}

TEST(Reducer, NoSyncAccumulatesThenReducesTheSum) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 2, 8);
  torch::manual_seed(0);
  Net local(comm, 2, 8);  // same weights, no reducer: the reference
  dist::Reducer reducer(named(*model), comm);
  torch::manual_seed(10 + comm->rank());
  auto a = torch::randn({kLocalBatch, 3, kSize, kSize}), b = torch::randn({kLocalBatch, 3, kSize, kSize});
  {
    auto guard = reducer.no_sync();
    model->forward(a).pow(2).mean().backward();
  }
  model->forward(b).pow(2).mean().backward();

  local->forward(a).pow(2).mean().backward();
  local->forward(b).pow(2).mean().backward();
  auto got = model->named_parameters(), want = local->named_parameters();
  for (const auto& item : want) {
    auto g = item.value().grad().clone();
    comm->allreduce(g, dist::ReduceOp::Avg);
    EXPECT_TRUE(torch::allclose(got[item.key()].grad(), g, 1e-5, 1e-6)) << item.key();
  }
}

// compress_to (config comm_hook: fp16_compress / bf16_compress): each gradient is the ranks'
// average to 16-bit precision, and holds 16-bit values only (what travelled).
TEST(Reducer, CompressedGradientsAreTheAverageIn16Bits) {
  auto comm = cpu_comm();
  for (const auto dtype : {at::kHalf, at::kBFloat16}) {
    torch::manual_seed(0);
    Net model(comm, 2, 8);
    torch::manual_seed(0);
    Net local(comm, 2, 8);  // same weights, no reducer: the float32 reference
    dist::Reducer reducer(named(*model), comm, {.compress_to = dtype});
    torch::manual_seed(20 + comm->rank());
    const auto x = torch::randn({kLocalBatch, 3, kSize, kSize});
    model->forward(x).pow(2).mean().backward();
    local->forward(x).pow(2).mean().backward();
    // A float16 share keeps 11 significant bits, a bfloat16 one 8; the sum rounds once per rank.
    const double tolerance = (dtype == at::kHalf ? 1e-3 : 8e-3) * comm->size();
    auto got = model->named_parameters();
    for (const auto& item : local->named_parameters()) {
      auto want = item.value().grad().clone();
      comm->allreduce(want, dist::ReduceOp::Avg);
      const auto& g = got[item.key()].grad();
      EXPECT_TRUE(g.equal(g.to(dtype).to(at::kFloat))) << c10::toString(dtype) << " " << item.key();
      // Rounding is relative to the shares (gradient / ranks), which can be far larger than their
      // average: the biases before BatchNorm get shares that cancel out. The floor: near 0
      // float16 is subnormal (steps of 6e-8), and the error absolute.
      auto share = (item.value().grad().abs().max() / comm->size()).reshape({1});
      comm->allreduce(share, dist::ReduceOp::Max);
      const double scale = std::max({1e-4, want.abs().max().item<double>(), share.item<double>()});
      EXPECT_LE((g - want).abs().max().item<double>(), tolerance * scale) << c10::toString(dtype) << " " << item.key();
    }
  }
}

TEST(Reducer, CompressionToAWideTypeIsRefused) {
  auto comm = cpu_comm();
  torch::manual_seed(0);
  Net model(comm, 1, 4);
  EXPECT_THROW(dist::Reducer(named(*model), comm, {.compress_to = at::kDouble}), std::exception);
}
