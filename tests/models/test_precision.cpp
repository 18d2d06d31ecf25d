// Mixed precision: MMSeg's fp16 config forms, autocast scopes, and the loss scaler against
// torch's GradScaler rules (backoff on an Inf/NaN, growth after growth_interval good steps).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <limits>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/engine/loss_scaler.h"
#include "segtrain/engine/precision.h"
#include "segtrain/models/autocast_scope.h"

using namespace segtrain;

namespace {

const c10::Device kCpu(c10::kCPU), kGpu(c10::kCUDA, 0);  // read_precision only asks which kind

engine::Precision precision_of(const std::string& yaml, c10::Device device) {
  return engine::read_precision(config::Config::from_string(yaml, "fp16.yaml"), device);
}

std::string error_of(const std::string& yaml, c10::Device device) {
  try {
    precision_of(yaml, device);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

double scale_of(const engine::LossScaler& s) { return s.current_scale(); }

}  // namespace

TEST(Precision, Float32UnlessAsked) {
  EXPECT_FALSE(precision_of("optimizer_config: {}", kGpu).autocast);
  EXPECT_FALSE(precision_of("optimizer_config: {type: OptimizerHook, grad_clip: null}", kGpu).autocast);
  EXPECT_EQ(precision_of("{}", kCpu).name(), "fp32");
}

TEST(Precision, MmsegFp16ConfigsScaleStatically) {
  // configs/fp16/*.py of MMSeg 0.x: the hook with a loss scale, and an empty fp16 placeholder.
  const auto p = precision_of("optimizer_config: {type: Fp16OptimizerHook, loss_scale: 512.}\nfp16: {}", kGpu);
  ASSERT_TRUE(p.autocast);
  EXPECT_EQ(*p.autocast, at::kHalf);
  ASSERT_TRUE(p.loss_scaler);
  EXPECT_FALSE(p.loss_scaler->dynamic);
  EXPECT_EQ(p.loss_scaler->init_scale, 512.0);
  // fp16 alone: MMCV's default hook scale.
  EXPECT_EQ(precision_of("fp16: {}", kGpu).loss_scaler->init_scale, 512.0);
}

TEST(Precision, DynamicAndGradScalerArguments) {
  const auto d = precision_of("fp16: {loss_scale: dynamic}", kGpu);
  ASSERT_TRUE(d.loss_scaler);
  EXPECT_TRUE(d.loss_scaler->dynamic);
  EXPECT_EQ(d.loss_scaler->init_scale, 65536.0);  // GradScaler()
  const auto k = precision_of("fp16: {loss_scale: {init_scale: 1024., growth_interval: 100}}", kGpu);
  EXPECT_TRUE(k.loss_scaler->dynamic);
  EXPECT_EQ(k.loss_scaler->init_scale, 1024.0);
  EXPECT_EQ(k.loss_scaler->growth_interval, 100);
  EXPECT_EQ(k.loss_scaler->backoff_factor, 0.5);
}

TEST(Precision, Bfloat16NeedsNoScalerAndRunsOnTheCpu) {
  const auto p = precision_of("fp16: {dtype: bfloat16}", kCpu);
  ASSERT_TRUE(p.autocast);
  EXPECT_EQ(*p.autocast, at::kBFloat16);
  EXPECT_FALSE(p.loss_scaler);
  EXPECT_EQ(p.name(), "bf16 autocast");
}

TEST(Precision, ErrorsNameTheKey) {
  const std::string cpu = error_of("optimizer_config: {type: Fp16OptimizerHook, loss_scale: 512.}", kCpu);
  EXPECT_NE(cpu.find("key 'optimizer_config.type'"), std::string::npos) << cpu;
  EXPECT_NE(cpu.find("needs a CUDA device"), std::string::npos) << cpu;
  EXPECT_NE(cpu.find("fp16.dtype=bfloat16"), std::string::npos) << cpu;
  EXPECT_NE(error_of("optimizer_config: {type: GradientCumulativeOptimizerHook}", kGpu)
                .find("valid types are 'OptimizerHook', 'Fp16OptimizerHook'"),
            std::string::npos);
  EXPECT_NE(error_of("fp16: {dtype: float8}", kGpu).find("key 'fp16.dtype': is 'float8'"), std::string::npos);
  EXPECT_NE(error_of("fp16: {loss_scale: -1}", kGpu).find("key 'fp16.loss_scale'"), std::string::npos);
  EXPECT_NE(error_of("fp16: {loss_scale: {init_scal: 4.}}", kGpu).find("init_scal"), std::string::npos);
  EXPECT_NE(error_of("fp16: 1", kGpu).find("key 'fp16': expected a dict"), std::string::npos);
}

TEST(Precision, AutocastScopeOnTheCpu) {
  const auto p = precision_of("fp16: {dtype: bfloat16}", kCpu);
  torch::nn::Conv2d conv(3, 4, 3);
  const auto x = torch::randn({1, 3, 8, 8});
  {
    models::AutocastScope scope(p.autocast, c10::DeviceType::CPU);
    EXPECT_EQ(conv->forward(x).scalar_type(), at::kBFloat16);  // torch's lower-precision list
    const auto target = torch::zeros({1, 6, 6}, torch::kLong);
    // Losses are on its float32 list.
    EXPECT_EQ(torch::nn::functional::cross_entropy(conv->forward(x), target).scalar_type(), at::kFloat);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(conv->forward(x).scalar_type(), at::kFloat);
  models::AutocastScope none(precision_of("{}", kCpu).autocast, c10::DeviceType::CPU);  // float32: nothing changes
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
}

TEST(LossScaler, UnscalesAndFindsOverflow) {
  engine::LossScaler scaler({.init_scale = 8.0}, kCpu);
  EXPECT_TRUE(torch::equal(scaler.scale(torch::tensor(3.0f)), torch::tensor(24.0f)));
  std::vector<torch::Tensor> grads = {torch::tensor({16.0f, 32.0f}), torch::tensor({8.0}, torch::kDouble)};
  EXPECT_EQ(scaler.unscale(grads).item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(grads[0], torch::tensor({2.0f, 4.0f})));
  EXPECT_TRUE(torch::equal(grads[1], torch::tensor({1.0}, torch::kDouble)));
  std::vector<torch::Tensor> bad = {torch::tensor({1.0f, std::numeric_limits<float>::infinity()})};
  EXPECT_EQ(scaler.unscale(bad).item<float>(), 1.0f);
  std::vector<torch::Tensor> nan = {torch::tensor({std::numeric_limits<float>::quiet_NaN()})};
  EXPECT_EQ(scaler.unscale(nan).item<float>(), 1.0f);
}

TEST(LossScaler, BacksOffThenGrowsAsGradScaler) {
  engine::LossScaler scaler({.init_scale = 8.0, .growth_factor = 2.0, .backoff_factor = 0.5, .growth_interval = 2},
                            kCpu);
  const auto inf = torch::ones({1}), ok = torch::zeros({1});
  scaler.update(inf);
  EXPECT_EQ(scale_of(scaler), 4.0);  // backoff
  scaler.update(ok);
  EXPECT_EQ(scale_of(scaler), 4.0);  // one good step
  scaler.update(ok);
  EXPECT_EQ(scale_of(scaler), 8.0);  // growth_interval good steps: grows, the count restarts
  scaler.update(ok);
  EXPECT_EQ(scaler.state_dict()["_growth_tracker"], 1);
  scaler.update(inf);
  EXPECT_EQ(scale_of(scaler), 4.0);
  EXPECT_EQ(scaler.state_dict()["_growth_tracker"], 0);
}

TEST(LossScaler, StaticScaleStays) {
  engine::LossScaler scaler({.init_scale = 512.0, .dynamic = false}, kCpu);
  scaler.update(torch::ones({1}));
  scaler.update(torch::zeros({1}));
  EXPECT_EQ(scale_of(scaler), 512.0);
}

TEST(LossScaler, StateRoundTripsAsGradScalers) {
  engine::LossScaler a({.init_scale = 8.0, .growth_interval = 3}, kCpu);
  a.update(torch::ones({1}));
  a.update(torch::zeros({1}));
  const auto state = a.state_dict();
  EXPECT_EQ(state["scale"], 4.0);
  EXPECT_EQ(state["growth_factor"], 2.0);
  EXPECT_EQ(state["backoff_factor"], 0.5);
  EXPECT_EQ(state["growth_interval"], 3);
  EXPECT_EQ(state["_growth_tracker"], 1);
  engine::LossScaler b({.init_scale = 8.0, .growth_interval = 3}, kCpu);
  b.load_state_dict(state, "ckpt.pth");
  EXPECT_EQ(b.state_dict(), state);
  try {
    b.load_state_dict({{"scale", "big"}}, "ckpt.pth");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt.pth: key 'meta.fp16.loss_scaler'"), std::string::npos) << e.what();
  }
}
