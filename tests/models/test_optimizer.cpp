// The optimizer builder: groups from paramwise_cfg.custom_keys, MMCV's longest-key rule, errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../unit/config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/engine/optimizer.h"

using namespace segtrain;

namespace {

struct TwoPartsImpl : torch::nn::Module {
  TwoPartsImpl() {
    backbone = register_module("backbone", torch::nn::Linear(3, 3));
    head = register_module("decode_head", torch::nn::Linear(3, 2));
    head_seg = register_module("decode_head_conv_seg", torch::nn::Linear(2, 2));
  }
  torch::nn::Linear backbone{nullptr}, head{nullptr}, head_seg{nullptr};
};
TORCH_MODULE(TwoParts);

engine::Optimizer build(const std::string& yaml, torch::nn::Module& m) {
  auto cfg = config::Config::from_string("optimizer: " + yaml, "t.yaml");
  return engine::build_optimizer(cfg.at("optimizer"), m);
}

}  // namespace

TEST(Optimizer, CustomKeysMakeGroupsWithMultipliers) {
  TwoParts m;
  auto opt = build("{type: SGD, lr: 0.01, momentum: 0.9, weight_decay: 0.0005, paramwise_cfg: {custom_keys: "
                   "{decode_head: {lr_mult: 10.0}, decode_head_conv_seg: {lr_mult: 2.0, decay_mult: 0.0}}}}", *m);
  ASSERT_EQ(opt.impl->param_groups().size(), 3u);
  EXPECT_EQ(opt.base_lrs, (std::vector<double>{0.01, 0.1, 0.02}));  // the longest matching key wins
  auto& seg = static_cast<torch::optim::SGDOptions&>(opt.impl->param_groups()[2].options());
  EXPECT_DOUBLE_EQ(seg.weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(seg.momentum(), 0.9);
  auto& head = static_cast<torch::optim::SGDOptions&>(opt.impl->param_groups()[1].options());
  EXPECT_DOUBLE_EQ(head.weight_decay(), 0.0005);
  opt.set_lr([](double base) { return base / 2; });
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.05);
}

// Keys of one length: MMCV tries them in alphabetical order, not the config's ("head" before
// "norm" for SegFormer's paramwise_cfg, whose config lists norm first).
TEST(Optimizer, CustomKeysOfOneLengthInAlphabeticalOrder) {
  struct BothImpl : torch::nn::Module {
    BothImpl() {
      register_module("decode_head_norm", torch::nn::Linear(2, 2));
      register_module("backbone_norm", torch::nn::Linear(2, 2));
    }
  };
  auto m = std::make_shared<BothImpl>();
  auto opt = build("{type: AdamW, lr: 0.01, weight_decay: 0.01, paramwise_cfg: {custom_keys: "
                   "{norm: {decay_mult: 0.0}, head: {lr_mult: 10.0}}}}", *m);
  ASSERT_EQ(opt.impl->param_groups().size(), 2u);
  EXPECT_EQ(opt.base_lrs, (std::vector<double>{0.1, 0.01}));  // decode_head_norm: "head" wins
  auto& head = static_cast<torch::optim::AdamWOptions&>(opt.impl->param_groups()[0].options());
  EXPECT_DOUBLE_EQ(head.weight_decay(), 0.01);
  auto& norm = static_cast<torch::optim::AdamWOptions&>(opt.impl->param_groups()[1].options());
  EXPECT_DOUBLE_EQ(norm.weight_decay(), 0.0);
}

TEST(Optimizer, AdamWAndErrors) {
  TwoParts m;
  auto opt = build("{type: AdamW, lr: 6.0e-5, betas: [0.9, 0.999], weight_decay: 0.01}", *m);
  EXPECT_EQ(opt.type, "AdamW");
  EXPECT_EQ(opt.impl->param_groups().size(), 1u);
  EXPECT_SEGTRAIN_ERROR(build("{type: SDG, lr: 0.1}", *m), ErrorKind::User, "unknown optimizer 'SDG' (did you mean 'SGD'?)");
  EXPECT_SEGTRAIN_ERROR(build("{type: SGD, lr: 0.1, momentm: 0.9}", *m), ErrorKind::User,
                        "unknown key 'optimizer.momentm' (did you mean 'momentum'?)");
  EXPECT_SEGTRAIN_ERROR(build("{type: SGD}", *m), ErrorKind::User, "missing key 'optimizer.lr'");
}
