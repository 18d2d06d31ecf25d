// MixVisionTransformer's training-time behaviour (its arithmetic is test_parity.cpp's): DropPath
// acts in training only, and with_cp recomputes each encoder layer with the same random draws,
// so its gradients are those without it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/models/registry.h"

using namespace segtrain;

namespace {

std::shared_ptr<models::Backbone> tiny_mit(const std::string& extra) {
  torch::manual_seed(0);  // the same initial weights for every call
  auto cfg = config::Config::from_string(
      "backbone: {type: MixVisionTransformer, embed_dims: 8, num_layers: [1, 2, 1, 1], num_heads: [1, 2, 2, 4], "
      "sr_ratios: [4, 2, 1, 1], drop_path_rate: 0.5" + extra + "}");
  return models::build_backbone(cfg.at("backbone"));
}

torch::Tensor weighted_sum(const std::vector<torch::Tensor>& outs) {
  torch::Tensor loss = torch::zeros({});
  for (std::size_t i = 0; i < outs.size(); ++i) loss = loss + outs[i].pow(2).mean() * static_cast<double>(i + 1);
  return loss;
}

}  // namespace

TEST(MixVisionTransformer, DropPathActsInTrainingOnly) {
  auto mit = tiny_mit("");
  torch::manual_seed(1);
  const auto x = torch::randn({4, 3, 32, 32});
  mit->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(mit->forward(x).back(), mit->forward(x).back()));
  mit->train();
  torch::manual_seed(2);
  const auto a = mit->forward(x).back();
  torch::manual_seed(3);
  const auto b = mit->forward(x).back();
  EXPECT_FALSE(torch::allclose(a, b)) << "drop_path_rate 0.5 dropped no residual branch";
}

TEST(MixVisionTransformer, WithCpGivesTheGradientsOfThePlainForward) {
  auto plain = tiny_mit(""), checkpointed = tiny_mit(", with_cp: true");
  torch::manual_seed(1);
  const auto x = torch::randn({4, 3, 32, 32});
  for (auto* m : {&plain, &checkpointed}) {
    (*m)->train();
    torch::manual_seed(5);  // the same DropPath draws in both forward passes
    weighted_sum((*m)->forward(x)).backward();
  }
  auto want = plain->named_parameters();
  int compared = 0;
  for (const auto& item : checkpointed->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_TRUE(torch::allclose(item.value().grad(), want[item.key()].grad(), 1e-5, 1e-7)) << item.key();
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

TEST(MixVisionTransformer, ConfigErrorsNameTheKey) {
  auto build = [](const std::string& yaml) {
    models::build_backbone(config::Config::from_string("backbone: {type: MixVisionTransformer, " + yaml + "}").at("backbone"));
  };
  auto error_of = [&](const std::string& yaml) {
    try {
      build(yaml);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("num_layers: [2, 2, 2]").find("key 'backbone.num_layers': num_layers needs one entry per stage"),
            std::string::npos) << error_of("num_layers: [2, 2, 2]");
  EXPECT_NE(error_of("out_indices: [0, 4]").find("key 'backbone.out_indices'"), std::string::npos);
  EXPECT_NE(error_of("drop_path_rate: 1.5").find("key 'backbone.drop_path_rate': must be in [0, 1)"), std::string::npos);
  EXPECT_NE(error_of("act_cfg: {type: ReLU}").find("only GELU"), std::string::npos);
  EXPECT_NE(error_of("norm_cfg: {type: LN, requires_grad: false}").find("key 'backbone.norm_cfg.requires_grad'"),
            std::string::npos);
  EXPECT_NE(error_of("norm_cfg: {type: BN}").find("only LN"), std::string::npos);
  EXPECT_NE(error_of("patch_size: [7, 3, 3, 3]").find("patch_size"), std::string::npos);
}
