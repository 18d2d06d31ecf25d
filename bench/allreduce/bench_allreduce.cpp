// Allreduce benchmark, run under mpirun (see run.sh). Rank 0 prints a table and, last, one
// JSON line with this world size's figures:
//  0. the link between rank 0 and rank 1 (ping-pong): latency alpha (half the round trip of 8
//     bytes) and bandwidth beta (16 MiB one way, alpha taken off) -- the scaling model's inputs;
//  1. raw MPI_Allreduce vs the communicator, 1 KB ... 64 MB: bus bandwidth
//     busbw = bytes / time * 2(n-1)/n (the nccl-tests convention);
//  2. the reducer's whole gradient sync for a ResNet-50-sized parameter set (25.6 M floats in
//     160 tensors) with buckets of --bucket-mb MiB (default 25, DDP's bucket_cap_mb), against one
//     raw MPI_Allreduce of the same bytes and of one bucket's bytes; and with the gradients sent
//     in 16 bits (comm_hook fp16_compress);
//  3. on a real backward of a mid-size conv net (16 conv + SyncBN layers of 256 channels, input
//     --input PIXELS square, batch 2 per rank): how much of the communication time is hidden
//     behind backward: (t_backward + t_comm - t_backward_with_reducer) / t_comm;
//  4. --sweep MB,MB,...: 2 and 3 again for each bucket size.
// Times are medians over repetitions, each started after a barrier.
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdio>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
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
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
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

struct Args {
  double bucket_mb = 25;
  std::vector<double> sweep;
  int input = 8;
  int64_t max_bytes = 64 << 20;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--bucket-mb") {
      a.bucket_mb = std::stod(value);
    } else if (flag == "--sweep") {
      std::stringstream list(value);
      for (std::string mb; std::getline(list, mb, ',');) a.sweep.push_back(std::stod(mb));
    } else if (flag == "--input") {
      a.input = std::stoi(value);
    } else if (flag == "--max-bytes") {
      a.max_bytes = std::stoll(value);
    } else {
      throw std::invalid_argument("unknown flag " + flag + " (--bucket-mb, --sweep, --input, --max-bytes)");
    }
  }
  return a;
}

// Median seconds of one ping-pong of `bytes` between ranks 0 and 1 (others idle).
double ping_pong(const dist::World& world, int64_t bytes, int reps) {
  std::vector<char> buffer(bytes);
  return median_seconds(world, 2, reps, [&] {
    if (world.rank() == 0) {
      MPI_Send(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (world.rank() == 1) {
      MPI_Recv(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  auto& world = dist::World::init();
  const int n = world.size();
  const bool main = world.is_main();
  const double bus_factor = n > 1 ? 2.0 * (n - 1) / n : 1.0;
  auto comm = dist::make_communicator(world, c10::Device(c10::kCPU));
  nlohmann::json out{{"ranks", n}};

  // 0. The link between ranks 0 and 1.
  if (n > 1) {
    const double alpha = ping_pong(world, 8, 50) / 2;
    constexpr int64_t kLarge = 16 << 20;
    const double beta = kLarge / (ping_pong(world, kLarge, 5) / 2 - alpha) / 1e9;
    if (main) std::printf("link rank 0 <-> 1: alpha %.1f us, beta %.3f GB/s\n", alpha * 1e6, beta);
    out["link_alpha_us"] = alpha * 1e6;
    out["link_beta_gbs"] = beta;
  }

  // 1. Message sizes.
  if (main) std::printf("ranks=%d\n%10s %14s %14s %8s\n", n, "bytes", "raw busbw GB/s", "comm busbw GB/s", "ratio");
  nlohmann::json sizes = nlohmann::json::array();
  for (int64_t bytes = 1024; bytes <= args.max_bytes; bytes *= 4) {
    at::Tensor t = torch::ones({bytes / 4});
    double raw = median_seconds(world, 2, reps_for(bytes), [&] {
      MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    });
    double ours = median_seconds(world, 2, reps_for(bytes), [&] { comm->allreduce(t, dist::ReduceOp::Sum); });
    double raw_bw = bytes / raw * bus_factor / 1e9, our_bw = bytes / ours * bus_factor / 1e9;
    if (main) std::printf("%10lld %14.3f %14.3f %8.3f\n", static_cast<long long>(bytes), raw_bw, our_bw, our_bw / raw_bw);
    sizes.push_back({{"bytes", bytes}, {"raw_busbw_gbs", raw_bw}, {"comm_busbw_gbs", our_bw}});
  }
  out["sizes"] = sizes;

  // 2. ResNet-50-sized gradient sync through the reducer vs raw allreduces.
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
    // (Not "p" + std::to_string(i): GCC 12 warns of it, wrongly, with -Wstringop-overflow.)
    params.emplace_back(std::to_string(i).insert(0, 1, 'p'), torch::zeros({size}, torch::requires_grad()));
  }
  auto backward_pass = [&] {  // gradients of ones: trivial compute, so the sync dominates
    torch::Tensor loss = torch::zeros({});
    for (auto& [name, p] : params) loss = loss + p.sum();
    loss.backward();
  };
  const int64_t grad_bytes = floats * 4;
  // The reducer's own account: first bucket handed over -> every bucket averaged, slowest rank.
  auto reducer_sync = [&](double bucket_mb, std::optional<at::ScalarType> compress_to = std::nullopt) {
    std::vector<double> syncs;
    dist::Reducer reducer(params, comm,
                          {.bucket_bytes = static_cast<int64_t>(bucket_mb * (1 << 20)), .compress_to = compress_to});
    for (int i = 0; i < 6; ++i) {
      world.barrier();
      backward_pass();
      const auto& t = reducer.timeline();
      double dt = std::chrono::duration<double>(t.synchronized - t.bucket_launched.front()).count();
      MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      if (i > 0) syncs.push_back(dt);
    }
    std::nth_element(syncs.begin(), syncs.begin() + syncs.size() / 2, syncs.end());
    return syncs[syncs.size() / 2];
  };
  auto raw_allreduce = [&](int64_t count) {
    at::Tensor flat = torch::ones({count});
    return median_seconds(world, 1, 5, [&] {
      MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    });
  };
  auto busbw = [&](int64_t bytes, double seconds) { return bytes / seconds * bus_factor / 1e9; };
  const double sync = reducer_sync(args.bucket_mb);
  const double raw_whole = raw_allreduce(floats);
  const int64_t bucket_floats = std::min(floats, static_cast<int64_t>(args.bucket_mb * (1 << 20)) / 4);
  const double raw_bucket = raw_allreduce(bucket_floats);
  const double reducer_bw = busbw(grad_bytes, sync), raw_bw = busbw(grad_bytes, raw_whole),
               raw_bucket_bw = busbw(bucket_floats * 4, raw_bucket);
  if (main)
    std::printf("\nResNet-50-sized sync (%lld floats, %d tensors), %g MiB buckets: reducer %.1f ms (%.3f GB/s busbw); "
                "raw whole %.1f ms (%.3f GB/s), raw one bucket %.3f GB/s; reducer/raw whole %.3f, reducer/raw bucket %.3f\n",
                static_cast<long long>(floats), kTensors, args.bucket_mb, sync * 1e3, reducer_bw, raw_whole * 1e3, raw_bw,
                raw_bucket_bw, reducer_bw / raw_bw, reducer_bw / raw_bucket_bw);
  out["bucket_mb"] = args.bucket_mb;
  out["reducer_sync_ms"] = sync * 1e3;
  out["raw_whole_ms"] = raw_whole * 1e3;
  out["reducer_busbw_gbs"] = reducer_bw;
  out["raw_busbw_gbs"] = raw_bw;
  out["raw_bucket_busbw_gbs"] = raw_bucket_bw;
  out["reducer_vs_raw_busbw"] = reducer_bw / raw_bw;
  out["reducer_vs_raw_bucket_busbw"] = reducer_bw / raw_bucket_bw;
  // comm_hook: fp16_compress: the same gradient sent in 16 bits.
  const double sync_fp16 = reducer_sync(args.bucket_mb, at::kHalf);
  if (main)
    std::printf("  with comm_hook fp16_compress: %.1f ms (%.2fx the float32 sync's time)\n", sync_fp16 * 1e3,
                sync_fp16 / sync);
  out["reducer_sync_fp16_compress_ms"] = sync_fp16 * 1e3;
  out["fp16_compress_time_ratio"] = sync_fp16 / sync;
  // 3. Overlap on a real backward: a mid-size conv net (16 conv+SyncBN layers of 256 channels,
  // 8.9 M parameters, like ResNet's last stages), batch 2 per rank.
  torch::manual_seed(0);
  Net net(comm, 16, 256);
  auto x = torch::randn({2, 3, args.input, args.input});
  auto step = [&] { net->forward(x).pow(2).mean().backward(); };
  const double plain = median_seconds(world, 1, 5, step);
  struct Overlap {
    double comm_only, overlapped, hidden;
  };
  auto overlap = [&](double bucket_mb) {
    Overlap o{};
    dist::Reducer reducer(named(*net), comm, {.bucket_bytes = static_cast<int64_t>(bucket_mb * (1 << 20))});
    o.overlapped = median_seconds(world, 1, 5, step);
    std::vector<at::Tensor> buckets;
    auto all = net->named_parameters();
    for (const auto& names : reducer.bucket_names()) {
      int64_t numel = 0;
      for (const auto& name : names) numel += all[name].numel();
      buckets.push_back(torch::ones({numel}));
    }
    o.comm_only = median_seconds(world, 1, 5, [&] {
      std::vector<std::shared_ptr<dist::Work>> works;
      for (auto& b : buckets) works.push_back(comm->allreduce_async(b, dist::ReduceOp::Avg));
      for (auto& w : works) w->wait();
    });
    o.hidden = std::clamp((plain + o.comm_only - o.overlapped) / o.comm_only, 0.0, 1.0);
    return o;
  };
  const Overlap o = overlap(args.bucket_mb);
  if (main)
    std::printf("conv net step (%dx%d input), %g MiB buckets: compute %.1f ms, communication alone %.1f ms, with "
                "reducer %.1f ms -> hidden %.0f%%\n",
                args.input, args.input, args.bucket_mb, plain * 1e3, o.comm_only * 1e3, o.overlapped * 1e3, o.hidden * 100);
  out["conv_input"] = args.input;
  out["step_compute_ms"] = plain * 1e3;
  out["step_comm_only_ms"] = o.comm_only * 1e3;
  out["step_with_reducer_ms"] = o.overlapped * 1e3;
  out["hidden_comm_fraction"] = o.hidden;

  // 4. The bucket size: both measures again for each size of --sweep.
  nlohmann::json sweep = nlohmann::json::array();
  if (main && !args.sweep.empty()) std::printf("\n%10s %18s %14s %14s\n", "bucket MiB", "R50 sync ms", "busbw GB/s", "conv hidden");
  for (const double mb : args.sweep) {
    const double t = reducer_sync(mb);
    const Overlap ov = overlap(mb);
    if (main) std::printf("%10g %18.1f %14.3f %13.0f%%\n", mb, t * 1e3, busbw(grad_bytes, t), ov.hidden * 100);
    sweep.push_back({{"bucket_mb", mb}, {"reducer_sync_ms", t * 1e3}, {"busbw_gbs", busbw(grad_bytes, t)},
                     {"step_comm_only_ms", ov.comm_only * 1e3}, {"step_with_reducer_ms", ov.overlapped * 1e3},
                     {"hidden_comm_fraction", ov.hidden}});
  }
  out["bucket_sweep"] = sweep;
  if (main) std::printf("%s\n", out.dump().c_str());
  return 0;
}
