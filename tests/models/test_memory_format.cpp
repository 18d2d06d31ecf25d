// channels_last: the same losses and gradients as the default layout, for every head, with_cp too.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model_configs.h"
#include "segtrain/config/config.h"
#include "segtrain/models/memory_format.h"
#include "segtrain/models/registry.h"

using namespace segtrain;
using namespace segtrain::testing;

namespace {

models::EncoderDecoder build(const std::string& yaml) {
  return models::build_segmentor(config::Config::from_string(yaml, "model.yaml").at("model"));
}

// Dropout draws its mask in memory order, which differs between the layouts: left out here.
std::string without_dropout(std::string yaml) {
  for (std::size_t at; (at = yaml.find("dropout_ratio: 0.1")) != std::string::npos;)
    yaml.replace(at, 18, "dropout_ratio: 0.0");
  return yaml;
}

}  // namespace

class ChannelsLast : public ::testing::TestWithParam<std::string> {};

TEST_P(ChannelsLast, SameLossesAndGradientsAsTheDefaultLayout) {
  const std::string yaml = GetParam();
  torch::manual_seed(0);
  auto nchw = build(yaml);
  torch::manual_seed(0);
  auto nhwc = build(yaml);
  // In float64: convolution kernels sum in another order per layout (and per allocation alignment),
  // and BatchNorm's backward amplifies float32's rounding; a layout mistake stays visible.
  nchw->to(torch::kDouble);
  nhwc->to(torch::kDouble);
  const auto* weight_before = nhwc->backbone->named_parameters()["stem.0.weight"].unsafeGetTensorImpl();
  models::to_channels_last(*nhwc);
  const auto converted = nhwc->backbone->named_parameters()["stem.0.weight"];
  EXPECT_EQ(converted.unsafeGetTensorImpl(), weight_before);  // the same parameter: optimizers keep it
  EXPECT_TRUE(converted.is_contiguous(at::MemoryFormat::ChannelsLast));

  torch::manual_seed(1);
  const auto x = torch::randn({2, 3, 64, 48}, torch::kDouble);
  const auto labels = torch::randint(0, 5, {2, 64, 48}, torch::kLong);
  const auto a = nchw->forward_train(x, labels);
  const auto b = nhwc->forward_train(x.contiguous(at::MemoryFormat::ChannelsLast), labels);
  EXPECT_NEAR(models::total_loss(a).item<double>(), models::total_loss(b).item<double>(), 1e-10);
  models::total_loss(a).backward();
  models::total_loss(b).backward();
  auto want = nchw->named_parameters();
  for (const auto& item : nhwc->named_parameters()) {
    const auto& g = want[item.key()].grad();
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    const double diff = (item.value().grad() - g).abs().max().item<double>();
    EXPECT_LE(diff, 1e-9 * std::max(1.0, g.abs().max().item<double>())) << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, ChannelsLast,
                         ::testing::Values(without_dropout(model_yaml("FCNHead", "d8")),
                                           without_dropout(model_yaml("UPerHead", "d16")),
                                           without_dropout(model_yaml("PSPHead", "d8", /*with_cp=*/true))));
