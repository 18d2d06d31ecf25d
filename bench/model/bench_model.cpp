// bench/model: forward+backward time and peak tensor memory of MMSeg's models (the ResNet-50
// ones, SegFormer MiT-B0 and MiT-B2, UPerNet Swin-T) on CPU at 512x512, batch 2, with and without with_cp, for
// the given thread counts.
// Usage: bench_model CONFIG_ROOT REPEATS THREADS... ; prints a table, then one JSON line.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "segtrain/config/config.h"
#include "segtrain/models/registry.h"
#include "segtrain/tools/cpu_memory_probe.h"

using namespace segtrain;

namespace {

struct Result {
  double seconds;
  double activation_mb;  // peak tensor bytes above what lives between steps (weights, grads)
};

Result measure(const std::string& config_file, bool with_cp, int repeats) {
  auto cfg = config::Config::load(config_file);
  cfg.apply_overrides({std::string("model.backbone.with_cp=") + (with_cp ? "True" : "False")});
  torch::manual_seed(0);
  auto model = models::build_segmentor(cfg.at("model"));
  model->train();
  auto x = torch::randn({2, 3, 512, 512});
  auto labels = torch::randint(0, 19, {2, 512, 512}, torch::kLong);
  auto step = [&] {
    for (auto& p : model->parameters()) p.mutable_grad().reset();
    models::total_loss(model->forward_train(x, labels)).backward();
  };
  step();  // warm-up; the gradients now exist
  std::vector<double> times, peaks;
  for (int r = 0; r < repeats; ++r) {
    for (auto& p : model->parameters()) p.mutable_grad().reset();
    tools::CpuMemoryProbe probe;
    const auto t0 = std::chrono::steady_clock::now();
    models::total_loss(model->forward_train(x, labels)).backward();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    peaks.push_back(probe.peak_bytes() / 1e6);
  }
  std::sort(times.begin(), times.end());
  std::sort(peaks.begin(), peaks.end());
  return {times[times.size() / 2], peaks[peaks.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_model CONFIG_ROOT REPEATS THREADS...\n");
    return 2;
  }
  const std::string root = argv[1];
  const int repeats = std::atoi(argv[2]);
  // Config files under CONFIG_ROOT; MiT-B2 has no base of its own (MMSeg sizes it in the full
  // config), and Swin-T's full config names its size.
  const std::vector<std::string> configs = {
      "_base_/models/pspnet_r50-d8",     "_base_/models/fcn_r50-d8",  "_base_/models/deeplabv3_r50-d8",
      "_base_/models/deeplabv3plus_r50-d8", "_base_/models/upernet_r50", "_base_/models/segformer_mit-b0",
      "segformer/segformer_mit-b2_512x512_160k_ade20k",
      "swin/upernet_swin_tiny_patch4_window7_512x512_160k_ade20k_pretrain_224x224_1K"};
  nlohmann::json out{{"benchmark", "model"}, {"input", "2x3x512x512"}, {"rows", nlohmann::json::array()}};
  std::printf("%-32s %7s %9s %12s %12s %9s %9s\n", "model", "threads", "with_cp", "time s", "act. MB", "mem cut",
              "time cost");
  for (int a = 3; a < argc; ++a) {
    const int threads = std::atoi(argv[a]);
    at::set_num_threads(threads);
    for (const auto& config : configs) {
      const std::string file = root + "/" + config + ".yaml";
      const std::string name = config.substr(config.rfind('/') + 1, config.find("_512x512") - config.rfind('/') - 1);
      Result plain = measure(file, false, repeats), cp = measure(file, true, repeats);
      const double cut = 1 - cp.activation_mb / plain.activation_mb, cost = cp.seconds / plain.seconds - 1;
      std::printf("%-32s %7d %9s %12.2f %12.0f %9s %9s\n", name.c_str(), threads, "no", plain.seconds,
                  plain.activation_mb, "", "");
      std::printf("%-32s %7d %9s %12.2f %12.0f %8.0f%% %8.0f%%\n", name.c_str(), threads, "yes", cp.seconds,
                  cp.activation_mb, cut * 100, cost * 100);
      out["rows"].push_back({{"model", name}, {"threads", threads}, {"seconds", plain.seconds},
                             {"seconds_with_cp", cp.seconds}, {"activation_mb", plain.activation_mb},
                             {"activation_mb_with_cp", cp.activation_mb}, {"with_cp_memory_cut", cut},
                             {"with_cp_time_cost", cost}});
      if (name == "pspnet_r50-d8" && a == 3) {
        out["with_cp_memory_cut"] = cut;
        out["with_cp_time_cost"] = cost;
      }
    }
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
