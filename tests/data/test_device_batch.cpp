// Normalize left to the device: uint8 batches, normalized by data::ModelInput, are the float
// batches that Normalize makes on the loader's workers, bit for bit, padding included; the
// pipeline is cut only where that holds. The feeder hands out the loader's batches in order.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "data_test_env.h"
#include "segtrain/data/device_batch.h"
#include "segtrain/data/device_feeder.h"
#include "segtrain/data/loader.h"

using namespace segtrain;
using namespace segtrain::data;
using segtrain::testing::test_data;

namespace {

const char* kCropped = segtrain::testing::kTrainPipeline;
// Images smaller than the crop (each its own size): the Pad after Normalize pads them all.
const char* kPadded = R"(steps: [{type: Resize, img_scale: [20, 16], ratio_range: [0.6, 1.2]},
  {type: RandomFlip, prob: 0.5}, {type: Normalize, mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395],
  to_rgb: false}, {type: Pad, size: [24, 24], pad_val: 0, seg_pad_val: 255}])";

Pipeline make(const std::string& steps) { return Pipeline(config::Config::from_string("steps: " + steps).at("steps")); }

std::unique_ptr<Loader> loader(const char* steps, bool on_device) {
  auto ds = std::make_shared<ShardDataset>(test_data() / "lz4" / "train");
  LoaderOptions o;
  o.batch_size = 3;
  o.workers = 2;
  o.seed = 11;
  o.normalize_on_device = on_device;
  return Loader::train(ds, Pipeline(config::Config::from_string(steps).at("steps")),
                       TrainSampler(ds->size(), 0, 1, 11), o);
}

void expect_same_batches(const char* steps) {
  auto host = loader(steps, false), device = loader(steps, true);
  bool padded = false;
  for (int k = 0; k < 6; ++k) {
    const Batch a = *host->next(), b = *device->next();
    ASSERT_TRUE(b.normalize.has_value());
    EXPECT_FALSE(a.normalize.has_value());
    EXPECT_EQ(b.images.scalar_type(), at::kByte);
    EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{3, 24, 24, 3}));
    EXPECT_EQ(b.labels.scalar_type(), at::kByte);
    ModelInput input{c10::Device(c10::kCPU)};
    const at::Tensor x = input.images(b, b.images, at::MemoryFormat::Contiguous);
    EXPECT_TRUE(x.is_contiguous());
    EXPECT_TRUE(at::equal(x, a.images)) << "batch " << k << ": largest difference "
                                        << (x - a.images).abs().max().item<float>();
    const at::Tensor nhwc = input.images(b, b.images, at::MemoryFormat::ChannelsLast);
    EXPECT_TRUE(nhwc.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(at::equal(nhwc, a.images));
    EXPECT_TRUE(at::equal(ModelInput::labels(b.labels), a.labels));
    for (const auto& [h, w] : b.valid_shapes) padded = padded || h < 24 || w < 24;
  }
  if (std::string(steps) == kPadded) {
    EXPECT_TRUE(padded) << "the padded pipeline padded nothing";
  }
}

}  // namespace

TEST(DeviceBatch, NormalizedOnTheDeviceAsOnTheWorkers) { expect_same_batches(kCropped); }

TEST(DeviceBatch, PaddingAndBgrOrderAsOnTheWorkers) { expect_same_batches(kPadded); }

TEST(DeviceBatch, PipelineIsCutOnlyBeforeNormalizeAndZeroPads) {
  const std::string norm = "{type: Normalize, mean: [1, 2, 3], std: [1, 1, 1]}";
  const std::string pad = "{type: Pad, size: [8, 8]}";
  const auto split = make("[{type: RandomFlip, prob: 0.5}, " + norm + ", " + pad + "]").split_at_normalize();
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->before->names(), (std::vector<std::string>{"RandomFlip"}));
  EXPECT_EQ(split->pads->names(), (std::vector<std::string>{"Pad"}));
  EXPECT_EQ(split->normalize.mean, (std::array<double, 3>{1, 2, 3}));
  EXPECT_FALSE(make("[{type: RandomFlip, prob: 0.5}]").split_at_normalize());
  EXPECT_FALSE(make("[" + norm + ", {type: RandomFlip, prob: 0.5}]").split_at_normalize());
  EXPECT_FALSE(make("[" + norm + ", {type: Pad, size: [8, 8], pad_val: 1}]").split_at_normalize());
  EXPECT_FALSE(make("[" + norm + ", " + norm + "]").split_at_normalize());
}

TEST(DeviceBatch, WithoutACutTheLoaderNormalizesAsBefore) {
  const char* no_normalize = R"(steps: [{type: RandomCrop, crop_size: [24, 24]}])";
  const Batch b = *loader(no_normalize, true)->next();
  EXPECT_FALSE(b.normalize.has_value());
  EXPECT_EQ(b.images.scalar_type(), at::kFloat);
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{3, 3, 24, 24}));
  EXPECT_EQ(b.labels.scalar_type(), at::kLong);
}

TEST(DeviceFeeder, HandsOutTheLoadersBatchesInOrder) {
  auto direct = loader(kCropped, true), fed = loader(kCropped, true);
  DeviceFeeder feeder(*fed, c10::Device(c10::kCPU), at::MemoryFormat::Contiguous);
  ModelInput input{c10::Device(c10::kCPU)};
  for (int k = 0; k < 4; ++k) {
    const Batch want = *direct->next();
    const DeviceBatch got = *feeder.next();
    EXPECT_EQ(got.host.indices, want.indices) << k;
    EXPECT_EQ(got.host.position_after.offset, want.position_after.offset) << k;
    EXPECT_TRUE(at::equal(got.images, input.images(want, want.images, at::MemoryFormat::Contiguous))) << k;
    EXPECT_TRUE(at::equal(got.labels, ModelInput::labels(want.labels))) << k;
  }
}
