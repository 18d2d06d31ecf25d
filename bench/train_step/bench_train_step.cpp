// bench/train_step: the compute-only training step of a config's model, in one process on CPU:
// what segtrain's Runner times per iteration (learning-rate update, forward with losses, backward,
// gradient clipping if configured, optimizer step, reading the losses) without the data loader,
// the MPI communicator or the gradient reducer. One fixed random batch of the config's shape
// (data.samples_per_gpu x 3 x the RandomCrop crop_size of data.train.pipeline).
// Usage: bench_train_step [--reducer] CONFIG WARMUP ITERS [KEY=VALUE ...]
//   KEY=VALUE: overrides as segtrain's --options. --reducer adds an MPI world of one (singleton),
//   its communicator and the gradient reducer copying each gradient into its bucket: the cost that
//   made segtrain skip the reducer when it runs alone.
// Prints one readable line, then one JSON line (median seconds per iteration).
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/reducer.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/lr_schedule.h"
#include "segtrain/engine/optimizer.h"
#include "segtrain/models/registry.h"

using namespace segtrain;

namespace {

// crop_size of the RandomCrop step in data.train.pipeline: the training input's size.
std::vector<int64_t> train_crop(const config::Config& cfg) {
  const auto pipeline = cfg.at("data").at("train").at("pipeline");
  for (const auto& step : pipeline.items())
    if (step.get<std::string>("type") == "RandomCrop") return step.get<std::vector<int64_t>>("crop_size");
  throw pipeline.error("has no RandomCrop step, so the training crop size is unknown");
}

int run(int argc, char** argv) {
  const bool with_reducer = argc > 1 && std::string(argv[1]) == "--reducer";
  if (with_reducer) {
    --argc;
    ++argv;
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_train_step [--reducer] CONFIG WARMUP ITERS [KEY=VALUE ...]\n");
    return 2;
  }
  auto cfg = config::Config::load(argv[1]);
  const int warmup = std::atoi(argv[2]), iters = std::atoi(argv[3]);
  if (warmup < 0 || iters < 1) throw user_error("bench_train_step", "WARMUP must be >= 0 and ITERS >= 1");
  cfg.apply_overrides(std::vector<std::string>(argv + 4, argv + argc));
  std::shared_ptr<dist::Communicator> comm;
  if (with_reducer) comm = dist::make_communicator(dist::World::init(), torch::kCPU);

  const int64_t batch = cfg.at("data").get<int64_t>("samples_per_gpu", 2);
  const auto crop = train_crop(cfg);
  torch::manual_seed(0);
  auto model = models::build_segmentor(cfg.at("model"), comm);  // SyncBN with one rank or none: plain BatchNorm
  const int64_t classes = model->decode_head->options().num_classes;
  auto optimizer = engine::build_optimizer(cfg.at("optimizer"), *model);
  const int64_t max_iters = warmup + iters;
  const auto schedule = engine::LrSchedule::parse(
      cfg.has("lr_config") ? cfg.at("lr_config") : config::Config::from_string("{}"), max_iters);
  std::unique_ptr<dist::Reducer> reducer;
  if (with_reducer) {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const auto& item : model->named_parameters()) named.emplace_back(item.key(), item.value());
    reducer = std::make_unique<dist::Reducer>(named, comm);
  }
  std::optional<double> clip;
  if (cfg.has("optimizer_config") && cfg.at("optimizer_config").has("grad_clip") &&
      !cfg.at("optimizer_config").at("grad_clip").is_null())
    clip = cfg.at("optimizer_config").at("grad_clip").get<double>("max_norm");

  const torch::Tensor images = torch::randn({batch, 3, crop[0], crop[1]});
  torch::Tensor labels = torch::randint(0, classes, {batch, crop[0], crop[1]}, torch::kLong);
  labels.narrow(2, 0, std::max<int64_t>(1, crop[1] / 16)).fill_(255);  // some padding, as RandomCrop + Pad leave

  std::vector<double> times;
  for (int64_t iter = 0; iter < max_iters; ++iter) {
    const auto t0 = std::chrono::steady_clock::now();
    optimizer.set_lr([&](double base) { return schedule.lr(base, iter); });
    model->train();
    auto losses = model->forward_train(images, labels);
    const torch::Tensor loss = models::total_loss(losses);
    optimizer.impl->zero_grad();
    loss.backward();
    if (clip) torch::nn::utils::clip_grad_norm_(model->parameters(), *clip);
    optimizer.impl->step();
    double logged = loss.item<double>();
    for (const auto& [name, value] : losses) logged += value.item<double>();
    (void)logged;
    if (iter >= warmup)
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const std::size_t mid = times.size() / 2;
  const double median = times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const char* what = with_reducer ? "compute + 1-rank reducer" : "compute-only";
  std::printf("%s %s: batch %lld x 3 x %lldx%lld, %d thread(s): %.4f s/iter (median of %d)\n",
              what, cfg.filename().filename().string().c_str(), static_cast<long long>(batch),
              static_cast<long long>(crop[0]), static_cast<long long>(crop[1]), at::get_num_threads(), median, iters);
  nlohmann::json out{{"benchmark", "train_step_compute_only"}, {"reducer", with_reducer}, {"config", cfg.filename().string()},
                     {"batch", batch}, {"crop", crop}, {"threads", at::get_num_threads()}, {"warmup", warmup},
                     {"iters", iters}, {"seconds_per_iter", median}, {"images_per_s", batch / median},
                     {"peak_memory_mb", usage.ru_maxrss / 1024.0}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_train_step: error: %s\n", e.what());
    return e.exit_code();
  }
}
