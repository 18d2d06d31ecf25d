// norm_cfg's momentum and eps reach the BN layers; frozen_stages and norm_eval keep running
// statistics fixed while training, as MMSeg's ResNet does.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model_configs.h"
#include "segtrain/config/config.h"
#include "segtrain/models/registry.h"

using namespace segtrain;

namespace {

std::shared_ptr<models::Backbone> backbone(const std::string& extra) {
  std::string yaml = segtrain::testing::backbone_yaml();
  yaml.insert(yaml.size() - 1, extra);
  auto cfg = config::Config::from_string("backbone: " + yaml, "backbone.yaml");
  return models::build_backbone(cfg.at("backbone"));
}

// Every BN running statistic of the module, cloned.
std::map<std::string, torch::Tensor> bn_stats(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers())
    if (b.key().find("running_") != std::string::npos) out[b.key()] = b.value().clone();
  return out;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

TEST(NormConfig, MomentumAndEpsReachTheLayer) {
  torch::manual_seed(0);
  auto net = backbone(", norm_cfg: {type: BN, momentum: 0.3, eps: 0.01}");
  auto* bn = net->named_modules()["stem.1"]->as<dist::SyncBatchNormImpl>();
  ASSERT_NE(bn, nullptr);
  EXPECT_DOUBLE_EQ(bn->momentum, 0.3);
  EXPECT_DOUBLE_EQ(bn->eps, 0.01);
  // Against ATen's batch_norm with the same momentum and eps: output and running statistics.
  const torch::Tensor x = torch::randn({2, 8, 5, 4}) * 3 + 1;
  torch::Tensor mean = bn->running_mean.clone(), var = bn->running_var.clone();
  const torch::Tensor want = torch::batch_norm(x, bn->weight, bn->bias, mean, var, true, 0.3, 0.01, false);
  net->train();
  const torch::Tensor got = bn->forward(x);
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(bn->running_mean, mean, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(bn->running_var, var, 1e-6, 1e-6));
}

TEST(NormConfig, RejectsMomentumOutOfRange) {
  try {
    backbone(", norm_cfg: {type: BN, momentum: 2}");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key 'backbone.norm_cfg.momentum'"), std::string::npos) << e.what();
  }
}

TEST(FrozenStages, StemAndFrozenStagesKeepTheirStatistics) {
  torch::manual_seed(0);
  auto net = backbone(", frozen_stages: 1");
  const auto before = bn_stats(*net);
  net->train();
  net->forward(torch::randn({2, 3, 32, 32}));
  const auto after = bn_stats(*net);
  int frozen = 0, moved = 0;
  for (const auto& [name, value] : before) {
    const bool is_frozen = starts_with(name, "stem.") || starts_with(name, "layer1.");
    if (is_frozen) {
      EXPECT_TRUE(torch::equal(after.at(name), value)) << name;
      ++frozen;
    } else if (!torch::equal(after.at(name), value)) {
      ++moved;
    }
  }
  EXPECT_GT(frozen, 0);
  EXPECT_GT(moved, 0);  // the stages that train still update theirs
  for (const auto& p : net->named_parameters())
    EXPECT_EQ(p.value().requires_grad(), !(starts_with(p.key(), "stem.") || starts_with(p.key(), "layer1."))) << p.key();
}

TEST(NormEval, EveryBatchNormKeepsItsStatistics) {
  torch::manual_seed(0);
  auto net = backbone(", norm_eval: true");
  const auto before = bn_stats(*net);
  net->train();
  net->forward(torch::randn({2, 3, 32, 32}));
  for (const auto& [name, value] : bn_stats(*net)) EXPECT_TRUE(torch::equal(value, before.at(name))) << name;
  EXPECT_TRUE(net->is_training());  // the convolutions still train
}
