#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace segtrain::testing {

// The folder tests/data/make_test_shards.py filled (tests/run_with_fixture.sh sets it).
inline std::filesystem::path test_data() {
  const char* dir = std::getenv("SEGTRAIN_TEST_DATA");
  return dir ? dir : "";
}

// A Cityscapes-like train pipeline at 24x24 crops (Pipeline(...at("steps"))): every random step,
// Normalize, then Pad.
inline constexpr const char* kTrainPipeline = R"(steps: [{type: Resize, img_scale: [48, 40], ratio_range: [0.5, 2.0]},
  {type: RandomCrop, crop_size: [24, 24], cat_max_ratio: 0.75}, {type: RandomFlip, prob: 0.5},
  {type: PhotoMetricDistortion}, {type: Normalize, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]},
  {type: Pad, size: [24, 24], pad_val: 0, seg_pad_val: 255}])";

}  // namespace segtrain::testing
