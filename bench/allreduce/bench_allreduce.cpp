// Allreduce benchmark, run under mpirun (see run.sh). Rank 0 prints a table and, last, one
// JSON line with this world size's figures:
//  1. raw MPI_Allreduce vs the communicator, 1 KB ... 64 MB: bus bandwidth
//     busbw = bytes / time * 2(n-1)/n (the nccl-tests convention);
//  2. the reducer's whole gradient sync for a ResNet-50-sized parameter set (25.6 M floats in
//     160 tensors) vs one raw MPI_Allreduce of the same bytes;
//  3. on a real backward of a mid-size conv net: how much of the communication time is hidden
//     behind backward: (t_backward + t_comm - t_backward_with_reducer) / t_comm.
// Times are medians over repetitions, each started after a barrier.
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "segtrain/dist/communicator.h"
#include "segtrain/dist/reducer.h"
#include "segtrain/dist/sync_batch_norm.h"
#include "segtrain/dist/world.h"

using namespace segtrain;
using Clock = std::chrono::steady_clock;

namespace {

// Median seconds of `fn` over `reps` runs (after `warmup`), every run starting together.
double median_seconds(const dist::World& world, int warmup, int reps, const std::function<void()>& fn) {
  std::vector<double> times;
  for (int i = 0; i < warmup + reps; ++i) {
    world.barrier();
    auto t0 = Clock::now();
    fn();
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    // The slowest rank decides when a collective is done.
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, world.comm());
    if (i >= warmup) times.push_back(dt);
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

int reps_for(int64_t bytes) { return bytes <= (1 << 20) ? 50 : bytes <= (16 << 20) ? 10 : 5; }

struct NetImpl : torch::nn::Module {
  NetImpl(std::shared_ptr<dist::Communicator> comm, int depth, int width) {
    int in = 3;
    for (int i = 0; i < depth; ++i) {
      convs.push_back(register_module("conv" + std::to_string(i),
                                      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, width, 3).padding(1))));
      bns.push_back(register_module("bn" + std::to_string(i), dist::SyncBatchNorm(width, comm)));
      in = width;
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < convs.size(); ++i) x = torch::relu(bns[i]->forward(convs[i]->forward(x)));
    return x;
  }
  std::vector<torch::nn::Conv2d> convs;
  std::vector<dist::SyncBatchNorm> bns;
};
TORCH_MODULE(Net);

std::vector<std::pair<std::string, at::Tensor>> named(torch::nn::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

int main() {
  auto& world = dist::World::init();
  const int n = world.size();
  const bool main = world.is_main();
  const double bus_factor = n > 1 ? 2.0 * (n - 1) / n : 1.0;
  auto comm = dist::make_communicator(world, c10::Device(c10::kCPU));
  nlohmann::json out{{"ranks", n}};

  // 1. Message sizes.
  if (main) std::printf("ranks=%d\n%10s %14s %14s %8s\n", n, "bytes", "raw busbw GB/s", "comm busbw GB/s", "ratio");
  nlohmann::json sizes = nlohmann::json::array();
  for (int64_t bytes = 1024; bytes <= (64 << 20); bytes *= 4) {
    at::Tensor t = torch::ones({bytes / 4});
    double raw = median_seconds(world, 2, reps_for(bytes), [&] {
      MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), MPI_FLOAT, MPI_SUM, world.comm());
    });
    double ours = median_seconds(world, 2, reps_for(bytes), [&] { comm->allreduce(t, dist::ReduceOp::Sum); });
    double raw_bw = bytes / raw * bus_factor / 1e9, our_bw = bytes / ours * bus_factor / 1e9;
    if (main) std::printf("%10lld %14.3f %14.3f %8.3f\n", static_cast<long long>(bytes), raw_bw, our_bw, our_bw / raw_bw);
    sizes.push_back({{"bytes", bytes}, {"raw_busbw_gbs", raw_bw}, {"comm_busbw_gbs", our_bw}});
  }
  out["sizes"] = sizes;

  // 2. ResNet-50-sized gradient sync through the reducer (25 MB buckets) vs one raw allreduce.
  constexpr int kTensors = 160;
  constexpr int64_t kTotal = 25'600'000;
  std::vector<double> weights;
  for (int i = 0; i < kTensors; ++i) weights.push_back(std::pow(1.03, i));  // deeper layers are larger
  const double wsum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::pair<std::string, at::Tensor>> params;
  int64_t floats = 0;
  for (int i = 0; i < kTensors; ++i) {
    int64_t size = std::max<int64_t>(1, static_cast<int64_t>(kTotal * weights[i] / wsum));
    floats += size;
    params.emplace_back("p" + std::to_string(i), torch::zeros({size}, torch::requires_grad()));
  }
  auto backward_pass = [&] {  // gradients of ones: trivial compute, so the sync dominates
    torch::Tensor loss = torch::zeros({});
    for (auto& [name, p] : params) loss = loss + p.sum();
    loss.backward();
  };
  const int64_t grad_bytes = floats * 4;
  // The reducer's own account: first bucket handed over -> every bucket averaged, slowest rank.
  std::vector<double> syncs;
  {
    dist::Reducer reducer(params, comm, {});
    for (int i = 0; i < 6; ++i) {
      world.barrier();
      backward_pass();
      const auto& t = reducer.timeline();
      double dt = std::chrono::duration<double>(t.synchronized - t.bucket_launched.front()).count();
      MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, world.comm());
      if (i > 0) syncs.push_back(dt);
    }
  }
  std::nth_element(syncs.begin(), syncs.begin() + syncs.size() / 2, syncs.end());
  const double reducer_sync = syncs[syncs.size() / 2];
  at::Tensor flat = torch::ones({floats});
  double raw_whole = median_seconds(world, 1, 5, [&] {
    MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(floats), MPI_FLOAT, MPI_SUM, world.comm());
  });
  const double reducer_bw = grad_bytes / reducer_sync * bus_factor / 1e9, raw_bw = grad_bytes / raw_whole * bus_factor / 1e9;
  if (main)
    std::printf("\nResNet-50-sized sync (%lld floats, %d tensors): reducer %.1f ms (%.3f GB/s busbw), raw %.1f ms "
                "(%.3f GB/s), reducer/raw %.3f\n",
                static_cast<long long>(floats), kTensors, reducer_sync * 1e3, reducer_bw, raw_whole * 1e3, raw_bw,
                reducer_bw / raw_bw);
  out["reducer_sync_ms"] = reducer_sync * 1e3;
  out["raw_whole_ms"] = raw_whole * 1e3;
  out["reducer_vs_raw_busbw"] = reducer_bw / raw_bw;

  // 3. Overlap on a real backward: a mid-size conv net (16 conv+SyncBN layers of 256 channels,
  // 9.4 M parameters, like ResNet's last stages) at 8x8, batch 2 per rank, default buckets.
  torch::manual_seed(0);
  Net net(comm, 16, 256);
  auto x = torch::randn({2, 3, 8, 8});
  auto step = [&] { net->forward(x).pow(2).mean().backward(); };
  double plain = median_seconds(world, 1, 7, step);
  double overlapped, comm_only;
  {
    dist::Reducer reducer(named(*net), comm, {});
    overlapped = median_seconds(world, 1, 7, step);
    std::vector<at::Tensor> buckets;
    auto all = net->named_parameters();
    for (const auto& names : reducer.bucket_names()) {
      int64_t numel = 0;
      for (const auto& name : names) numel += all[name].numel();
      buckets.push_back(torch::ones({numel}));
    }
    comm_only = median_seconds(world, 1, 7, [&] {
      std::vector<std::shared_ptr<dist::Work>> works;
      for (auto& b : buckets) works.push_back(comm->allreduce_async(b, dist::ReduceOp::Avg));
      for (auto& w : works) w->wait();
    });
  }
  const double hidden = std::clamp((plain + comm_only - overlapped) / comm_only, 0.0, 1.0);
  if (main)
    std::printf("conv net step: compute %.1f ms, communication alone %.1f ms, with reducer %.1f ms -> hidden %.0f%%\n",
                plain * 1e3, comm_only * 1e3, overlapped * 1e3, hidden * 100);
  out["step_compute_ms"] = plain * 1e3;
  out["step_comm_only_ms"] = comm_only * 1e3;
  out["step_with_reducer_ms"] = overlapped * 1e3;
  out["hidden_comm_fraction"] = hidden;
  if (main) std::printf("%s\n", out.dump().c_str());
  return 0;
}
