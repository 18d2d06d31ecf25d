// The transformer backbones' training-time behaviour and config checks (their arithmetic is
// test_parity.cpp's): DropPath acts in training only, with_cp recomputes each block with the
// same random draws (so its gradients are those without it), Swin's frozen_stages keeps the
// patch embedding and the first stages fixed, and bad settings are one-line errors naming their key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/models/registry.h"

using namespace segtrain;

namespace {

// Tiny MiT and Swin, with every kind of randomness on (DropPath at 0.5, dropouts) where asked.
const std::string kTinyMit =
    "type: MixVisionTransformer, embed_dims: 8, num_layers: [1, 2, 1, 1], num_heads: [1, 2, 2, 4], "
    "sr_ratios: [4, 2, 1, 1], drop_path_rate: 0.5";
const std::string kTinySwin =
    "type: SwinTransformer, embed_dims: 8, depths: [2, 2, 2, 1], num_heads: [1, 2, 2, 4], window_size: 3, "
    "drop_path_rate: 0.5";

std::shared_ptr<models::Backbone> tiny(const std::string& yaml, const std::string& extra = "") {
  torch::manual_seed(0);  // the same initial weights for every call
  auto cfg = config::Config::from_string("backbone: {" + yaml + extra + "}");
  return models::build_backbone(cfg.at("backbone"));
}

torch::Tensor weighted_sum(const std::vector<torch::Tensor>& outs) {
  torch::Tensor loss = torch::zeros({});
  for (std::size_t i = 0; i < outs.size(); ++i) loss = loss + outs[i].pow(2).mean() * static_cast<double>(i + 1);
  return loss;
}

std::string error_of(const std::string& type, const std::string& yaml) {
  try {
    models::build_backbone(config::Config::from_string("backbone: {type: " + type + ", " + yaml + "}").at("backbone"));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

class TransformerBackbone : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TransformerBackbone, DropPathActsInTrainingOnly) {
  auto backbone = tiny(GetParam());
  torch::manual_seed(1);
  const auto x = torch::randn({4, 3, 40, 36});
  backbone->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(backbone->forward(x).back(), backbone->forward(x).back()));
  backbone->train();
  torch::manual_seed(2);
  const auto a = backbone->forward(x).back();
  torch::manual_seed(3);
  const auto b = backbone->forward(x).back();
  EXPECT_FALSE(torch::allclose(a, b)) << "drop_path_rate 0.5 dropped no residual branch";
}

TEST_P(TransformerBackbone, WithCpGivesTheGradientsOfThePlainForward) {
  const std::string dropouts = ", drop_rate: 0.2, attn_drop_rate: 0.2";
  auto plain = tiny(GetParam(), dropouts), checkpointed = tiny(GetParam(), dropouts + ", with_cp: true");
  torch::manual_seed(1);
  const auto x = torch::randn({4, 3, 40, 36});
  for (auto* m : {&plain, &checkpointed}) {
    (*m)->train();
    torch::manual_seed(5);  // the same DropPath and dropout draws in both forward passes
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

INSTANTIATE_TEST_SUITE_P(MitAndSwin, TransformerBackbone, ::testing::Values(kTinyMit, kTinySwin),
                         [](const auto& info) { return info.index == 0 ? std::string("MiT") : std::string("Swin"); });

TEST(MixVisionTransformer, ConfigErrorsNameTheKey) {
  auto error_of = [](const std::string& yaml) { return ::error_of("MixVisionTransformer", yaml); };
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

TEST(SwinTransformer, FrozenStagesKeepTheirWeightsAndStayInEvalMode) {
  auto swin = tiny(kTinySwin, ", frozen_stages: 1");
  swin->train();
  int frozen = 0, trained = 0;
  for (const auto& item : swin->named_parameters()) {
    const std::string& name = item.key();
    const bool should_freeze = name.rfind("patch_embed.", 0) == 0 || name.rfind("stages.0.", 0) == 0 ||
                               name.rfind("norm0.", 0) == 0;
    EXPECT_EQ(item.value().requires_grad(), !should_freeze) << name;
    (should_freeze ? frozen : trained)++;
  }
  EXPECT_GT(frozen, 10);
  EXPECT_GT(trained, 10);
  for (const auto& item : swin->named_modules()) {
    const bool in_frozen = item.key().rfind("patch_embed", 0) == 0 || item.key().rfind("stages.0", 0) == 0 ||
                           item.key() == "norm0";
    if (!item.key().empty()) {
      EXPECT_EQ(item.value()->is_training(), !in_frozen) << item.key();
    }
  }
}

TEST(SwinTransformer, TheAbsolutePositionEmbeddingNeedsItsPretrainingSize) {
  auto swin = tiny(kTinySwin, ", use_abs_pos_embed: true, pretrain_img_size: [40, 36]");
  EXPECT_EQ(swin->named_parameters()["absolute_pos_embed"].sizes(), (std::vector<int64_t>{1, 10 * 9, 8}));
  torch::NoGradGuard no_grad;
  EXPECT_EQ(swin->forward(torch::randn({1, 3, 40, 36})).size(), 4u);
  try {
    swin->forward(torch::randn({1, 3, 32, 32}));
    ADD_FAILURE() << "no error for a 32x32 input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.backbone.use_abs_pos_embed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("40x36"), std::string::npos) << e.what();
  }
}

TEST(SwinTransformer, ConfigErrorsNameTheKey) {
  auto error_of = [](const std::string& yaml) { return ::error_of("SwinTransformer", yaml); };
  EXPECT_NE(error_of("num_heads: [3, 6, 12]").find("key 'backbone.num_heads': needs one entry per stage"),
            std::string::npos) << error_of("num_heads: [3, 6, 12]");
  EXPECT_NE(error_of("strides: [2, 2, 2, 2]").find("key 'backbone.strides': strides[0] must equal patch_size"),
            std::string::npos) << error_of("strides: [2, 2, 2, 2]");
  EXPECT_NE(error_of("embed_dims: 10").find("key 'backbone.embed_dims': stage 0's 10 channels do not split into 3 heads"),
            std::string::npos) << error_of("embed_dims: 10");
  EXPECT_NE(error_of("out_indices: [0, 4]").find("key 'backbone.out_indices'"), std::string::npos);
  EXPECT_NE(error_of("drop_path_rate: 1.5").find("key 'backbone.drop_path_rate': must be in [0, 1)"), std::string::npos);
  EXPECT_NE(error_of("act_cfg: {type: ReLU}").find("only GELU"), std::string::npos);
  EXPECT_NE(error_of("norm_cfg: {type: BN}").find("key 'backbone.norm_cfg.type': only LN"), std::string::npos);
  EXPECT_NE(error_of("window_size: 0").find("key 'backbone.window_size': must be positive"), std::string::npos);
  EXPECT_NE(error_of("frozen_stages: 5").find("key 'backbone.frozen_stages'"), std::string::npos);
  EXPECT_NE(error_of("pretrain_img_size: [224, 224, 3]").find("key 'backbone.pretrain_img_size'"), std::string::npos);
  EXPECT_NE(error_of("window: 7").find("key 'backbone.window'"), std::string::npos);
}
