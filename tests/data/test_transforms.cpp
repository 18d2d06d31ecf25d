// The pipeline steps against their definitions (MMSeg's semantics, written out in the test).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "../unit/config_fixture.h"
#include "segtrain/data/pipeline.h"
#include "segtrain/data/transforms/geometric.h"
#include "segtrain/data/transforms/photometric.h"

using namespace segtrain;
using namespace segtrain::data;

namespace {

Sample sample(int64_t h, int64_t w) {
  Sample s;
  // Pixel (y, x) holds (y, x, y + x) and label x % 7: positions can be read back.
  at::Tensor y = at::arange(h).view({h, 1}).expand({h, w}), x = at::arange(w).view({1, w}).expand({h, w});
  s.image = at::stack({y, x, y + x}, 2).remainder(256).to(at::kByte).contiguous();
  s.label = x.remainder(7).to(at::kByte).contiguous();
  s.ori_shape = {h, w};
  return s;
}

Pipeline pipeline(const std::string& yaml) {
  return Pipeline(config::Config::from_string("steps: " + yaml, "test.yaml").at("steps"));
}

}  // namespace

TEST(RandomFlip, MovesImageAndLabelTogether) {
  Sample s = sample(5, 9);
  Rng rng(1);
  RandomFlip(1.0).apply(s, rng);
  EXPECT_TRUE(s.flipped);
  for (int64_t x = 0; x < 9; ++x) {
    EXPECT_EQ(s.image[0][x][1].item<int>(), 8 - x);
    EXPECT_EQ(s.label[0][x].item<int>(), (8 - x) % 7);  // the label went with its pixel
  }
  Rng rng2(1);
  Sample t = sample(5, 9);
  RandomFlip(0.0).apply(t, rng2);
  EXPECT_FALSE(t.flipped);
}

TEST(Resize, KeepsLabelsIntegralAndFollowsImrescale) {
  Sample s = sample(40, 60);
  Rng rng(0);
  Resize({90, 30}, std::nullopt, true).apply(s, rng);  // long edge <= 90, short edge <= 30
  EXPECT_EQ(s.size(), (std::array<int64_t, 2>{30, 45}));   // pending until a step needs pixels
  materialize(s);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{30, 45, 3}));
  EXPECT_EQ(s.label.sizes(), (std::vector<int64_t>{30, 45}));
  auto values = std::get<0>(at::_unique(s.label));
  EXPECT_LE(values.max().item<int>(), 6);  // nearest: only the original class ids
  EXPECT_EQ(Resize::rescaled_size(1024, 2048, {2048, 512}), (std::array<int64_t, 2>{512, 1024}));
  Sample t = sample(40, 60);
  Resize({20, 10}, std::nullopt, false).apply(t, rng);  // exact (w, h)
  materialize(t);
  EXPECT_EQ(t.image.sizes(), (std::vector<int64_t>{10, 20, 3}));
}

TEST(Resize, RatioRangeScalesWithinBounds) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Sample s = sample(100, 200);
    Rng rng(seed);
    Resize({200, 100}, std::array<double, 2>{0.5, 2.0}, true).apply(s, rng);
    EXPECT_GE(s.size()[0], 49);
    EXPECT_LE(s.size()[0], 201);
    EXPECT_NEAR(static_cast<double>(s.size()[1]) / s.size()[0], 2.0, 0.05);
  }
}

TEST(Resize, BilinearMatchesTorchAndCropOfResizeEqualsResizedCrop) {
  at::Tensor img = at::randint(0, 256, {23, 31, 3}, at::kByte);
  // Upscaling: torch's bilinear (align_corners=false) is an independent reference.
  at::Tensor ref = at::upsample_bilinear2d(img.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat), {50, 70}, false)
                       .squeeze(0).permute({1, 2, 0}).round().clamp(0, 255);
  at::Tensor ours = resize_window(img, {50, 70}, 0, 0, 50, 70).to(at::kFloat);
  EXPECT_LE((ours - ref).abs().max().item<double>(), 1.0);
  // The lazy path (RandomCrop interpolating only its window) equals crop-after-resize.
  at::Tensor whole = resize_window(img, {50, 70}, 0, 0, 50, 70);
  EXPECT_TRUE(at::equal(resize_window(img, {50, 70}, 7, 11, 20, 30), whole.narrow(0, 7, 20).narrow(1, 11, 30)));
  at::Tensor label = at::randint(0, 5, {23, 31}, at::kByte);
  at::Tensor whole_label = label_window(label, {50, 70}, 0, 0, 50, 70);
  EXPECT_TRUE(at::equal(label_window(label, {50, 70}, 7, 11, 20, 30), whole_label.narrow(0, 7, 20).narrow(1, 11, 30)));
  // Works on strided views (the shard buffer's RGB channels).
  at::Tensor hw4 = at::randint(0, 256, {23, 31, 4}, at::kByte);
  EXPECT_TRUE(at::equal(resize_window(hw4.narrow(2, 0, 3), {12, 16}, 0, 0, 12, 16),
                        resize_window(hw4.narrow(2, 0, 3).contiguous(), {12, 16}, 0, 0, 12, 16)));
}

TEST(RandomCrop, HonoursCatMaxRatio) {
  // Left 80% class 1, right 20% class 2: most 10x10 crops hold one class only.
  auto ratio_ok = [](const at::Tensor& label) {
    auto counts = at::bincount(label.flatten().to(at::kLong), {}, 256);
    counts[255] = 0;
    auto present = counts.masked_select(counts > 0);
    return present.numel() > 1 && present.max().item<double>() / present.sum().item<double>() < 0.75;
  };
  int with = 0, without = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Sample a = sample(20, 50), b = sample(20, 50);
    a.label = (a.label.new_full({20, 50}, 1));
    a.label.narrow(1, 40, 10).fill_(2);
    b.label = a.label.clone();
    Rng r1(seed), r2(seed);
    RandomCrop({10, 10}, 0.75).apply(a, r1);
    RandomCrop({10, 10}, 1.0).apply(b, r2);
    EXPECT_EQ(a.image.sizes(), (std::vector<int64_t>{10, 10, 3}));
    with += ratio_ok(a.label);
    without += ratio_ok(b.label);
  }
  EXPECT_GT(with, 3 * without) << with << " vs " << without;
  EXPECT_GT(with, 60);
}

TEST(RandomCrop, CropMatchesImageAndLabel) {
  Sample s = sample(30, 40);
  Rng rng(5);
  RandomCrop({8, 12}, 1.0).apply(s, rng);
  const int64_t y0 = s.image[0][0][0].item<int>(), x0 = s.image[0][0][1].item<int>();
  for (int64_t x = 0; x < 12; ++x) EXPECT_EQ(s.label[3][x].item<int>(), (x0 + x) % 7);
  EXPECT_EQ(s.image[7][11][0].item<int>(), y0 + 7);
}

TEST(Normalize, MatchesTheFormula) {
  Sample s = sample(4, 6);
  at::Tensor before = s.image.to(at::kFloat);
  Rng rng(0);
  Normalize({{123.675, 116.28, 103.53}, {58.395, 57.12, 57.375}, true}).apply(s, rng);
  for (int c = 0; c < 3; ++c) {
    const double mean[] = {123.675, 116.28, 103.53}, std[] = {58.395, 57.12, 57.375};
    EXPECT_TRUE(at::allclose(s.image.select(2, c), (before.select(2, c) - mean[c]) / std[c], 1e-5, 1e-5));
  }
  Sample t = sample(4, 6);
  Normalize({{1, 2, 3}, {1, 1, 1}, false}).apply(t, rng);  // BGR order: channel 0 is blue
  EXPECT_TRUE(at::allclose(t.image.select(2, 0), before.select(2, 2) - 1));
}

TEST(Pad, PadsImageAndLabelWithTheirValues) {
  Sample s = sample(5, 7);
  Rng rng(0);
  Pad(std::array<int64_t, 2>{8, 10}, 0, 0, 255).apply(s, rng);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{8, 10, 3}));
  EXPECT_EQ(s.label[7][9].item<int>(), 255);
  EXPECT_EQ(s.image[7][9][2].item<int>(), 0);
  EXPECT_EQ(s.label[4][6].item<int>(), 6);
}

TEST(PhotoMetricDistortion, HsvConversionsFollowCv2) {
  at::Tensor px = at::tensor({255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 64, 32}, at::kByte).view({6, 1, 3});
  at::Tensor hsv = rgb_to_hsv(px);
  // cv2.cvtColor(..., COLOR_RGB2HSV) for red, green, blue, white, black, (128, 64, 32).
  std::vector<int> want = {0, 255, 255, 60, 255, 255, 120, 255, 255, 0, 0, 255, 0, 0, 0, 10, 191, 128};
  for (int i = 0; i < 18; ++i) EXPECT_EQ(hsv.flatten()[i].item<int>(), want[i]) << i;
  at::Tensor all = at::randint(0, 256, {64, 64, 3}, at::kByte);
  EXPECT_LE((hsv_to_rgb(rgb_to_hsv(all)).to(at::kInt) - all.to(at::kInt)).abs().max().item<int>(), 6);
}

TEST(PhotoMetricDistortion, ChangesPixelsNotLabelsAndIsSeeded) {
  Sample a = sample(16, 16), b = sample(16, 16);
  at::Tensor label = a.label.clone();
  Rng r1(11), r2(11);
  PhotoMetricDistortion().apply(a, r1);
  PhotoMetricDistortion().apply(b, r2);
  EXPECT_TRUE(at::equal(a.image, b.image));
  EXPECT_TRUE(at::equal(a.label, label));
  EXPECT_EQ(a.image.scalar_type(), at::kByte);
}

TEST(Pipeline, BuildsMmsegStepsAndRejectsUnknownOnes) {
  auto p = pipeline(R"([{type: LoadImageFromFile}, {type: LoadAnnotations},
    {type: Resize, img_scale: [64, 32], ratio_range: [0.5, 2.0]}, {type: RandomCrop, crop_size: [16, 16], cat_max_ratio: 0.75},
    {type: RandomFlip, prob: 0.5}, {type: PhotoMetricDistortion},
    {type: Normalize, mean: [1, 2, 3], std: [1, 1, 1], to_rgb: true}, {type: Pad, size: [16, 16], pad_val: 0, seg_pad_val: 255},
    {type: DefaultFormatBundle}, {type: Collect, keys: [img, gt_semantic_seg]}])");
  EXPECT_EQ(p.names(), (std::vector<std::string>{"Resize", "RandomCrop", "RandomFlip", "PhotoMetricDistortion",
                                                 "Normalize", "Pad"}));
  Sample s = sample(40, 80);
  Rng rng(3);
  p.apply(s, rng);
  EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{16, 16, 3}));
  EXPECT_EQ(s.image.scalar_type(), at::kFloat);

  auto test = pipeline(R"([{type: LoadImageFromFile}, {type: MultiScaleFlipAug, img_scale: [64, 32], flip: false,
    transforms: [{type: Resize, keep_ratio: true}, {type: RandomFlip}, {type: Normalize, mean: [0, 0, 0], std: [1, 1, 1]},
    {type: ImageToTensor, keys: [img]}, {type: Collect, keys: [img]}]}])");
  EXPECT_EQ(test.names(), (std::vector<std::string>{"Resize", "RandomFlip", "Normalize"}));

  EXPECT_SEGTRAIN_ERROR(pipeline("[{type: RandomCrp, crop_size: 3}]"), ErrorKind::User,
                        "unknown pipeline step 'RandomCrp' (did you mean 'RandomCrop'?)");
  EXPECT_SEGTRAIN_ERROR(pipeline("[{type: RandomFlip, prb: 0.5}]"), ErrorKind::User,
                        "unknown key 'steps.0.prb' (did you mean 'prob'?)");
  EXPECT_SEGTRAIN_ERROR(pipeline("[{type: Normalize, mean: [1, 2], std: [1, 1, 1]}]"), ErrorKind::User,
                        "key 'steps.0.mean': expected a list of 3 numbers");
}
