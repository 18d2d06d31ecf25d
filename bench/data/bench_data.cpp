// C++ side of bench/data: images per second on one core through the Cityscapes train pipeline
// (Resize 2048x1024 ratio 0.5-2, RandomCrop 512x1024 cat_max_ratio 0.75, RandomFlip,
// PhotoMetricDistortion, Normalize, Pad, collation to CHW float) reading from shards.
// Usage: bench_data SPLIT_DIR REPEATS. Prints one JSON line.
#include <ATen/Parallel.h>
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "segtrain/config/config.h"
#include "segtrain/data/loader.h"

using namespace segtrain;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_data SPLIT_DIR REPEATS\n");
    return 2;
  }
  at::set_num_threads(1);  // per core
  data::ShardDataset ds(argv[1]);
  const int repeats = std::atoi(argv[2]);
  auto cfg = config::Config::from_string(R"(steps: [
    {type: Resize, img_scale: [2048, 1024], ratio_range: [0.5, 2.0]},
    {type: RandomCrop, crop_size: [512, 1024], cat_max_ratio: 0.75},
    {type: RandomFlip, prob: 0.5}, {type: PhotoMetricDistortion},
    {type: Normalize, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], to_rgb: true},
    {type: Pad, size: [512, 1024], pad_val: 0, seg_pad_val: 255}])");
  data::Pipeline pipeline(cfg.at("steps"));
  auto run = [&](int epoch) {
    for (std::size_t i = 0; i < ds.size(); ++i) {
      auto s = data::load_sample(ds, pipeline, i, 0, epoch, true);
      at::Tensor chw = s.image.permute({2, 0, 1}).contiguous();  // what collation does
      at::Tensor label = s.label.to(at::kLong);
      if (chw.size(1) != 512 || label.size(1) != 1024) return false;
    }
    return true;
  };
  run(0);  // warm-up: page cache, allocator
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!run(r + 1)) return 1;
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(ds.size() / dt);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("%s\n", nlohmann::json{{"images_per_s", rates[rates.size() / 2]}, {"images", ds.size()},
                                     {"compression", ds.info().compression}}.dump().c_str());
  return 0;
}
