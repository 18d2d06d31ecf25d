// Model shapes, inference modes, with_cp, weights by name, and config errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <torch/torch.h>

#include "../unit/config_fixture.h"
#include "model_configs.h"
#include "segtrain/models/autocast_scope.h"
#include "segtrain/models/registry.h"
#include "segtrain/models/weights.h"
#include "segtrain/tools/cpu_memory_probe.h"

using namespace segtrain;
using namespace segtrain::testing;

namespace {

models::EncoderDecoder build(const std::string& yaml) {
  auto cfg = config::Config::from_string(yaml, "model.yaml");
  return models::build_segmentor(cfg.at("model"));
}

}  // namespace

class Heads : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Heads, OutputShapesAndNamedLosses) {
  const auto [head, dilation] = GetParam();
  torch::manual_seed(0);
  auto model = build(model_yaml(head, dilation));
  auto x = torch::randn({2, 3, 64, 48});
  auto feats = model->backbone->forward(x);
  ASSERT_EQ(feats.size(), 4u);
  const int64_t stride = dilation == "d8" ? 8 : 16;
  EXPECT_EQ(feats[3].sizes(), (std::vector<int64_t>{2, 64, 64 / stride, 48 / stride}));
  EXPECT_EQ(feats[0].sizes(), (std::vector<int64_t>{2, 8, 16, 12}));
  auto logits = model->decode_head->forward(feats);
  const int64_t out_stride = head == "UPerHead" || head == "DepthwiseSeparableASPPHead" ? 4 : stride;
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 5, 64 / out_stride, 48 / out_stride}));
  EXPECT_EQ(model->inference(x).sizes(), (std::vector<int64_t>{2, 5, 64, 48}));

  auto labels = torch::randint(0, 5, {2, 64, 48}, torch::kLong);
  labels.index_put_({0, 0}, 255);
  auto losses = model->forward_train(x, labels);
  std::vector<std::string> keys;
  for (auto& [k, v] : losses) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"aux.acc_seg", "aux.loss_ce", "decode.acc_seg", "decode.loss_ce"}));
  auto loss = models::total_loss(losses);
  EXPECT_TRUE(torch::allclose(loss, losses["decode.loss_ce"] + losses["aux.loss_ce"]));
  loss.backward();
  EXPECT_GT(model->backbone->named_parameters()["stem.0.weight"].grad().abs().sum().item<double>(), 0);
}

INSTANTIATE_TEST_SUITE_P(EveryHead, Heads,
                         ::testing::Combine(::testing::Values("FCNHead", "PSPHead", "ASPPHead",
                                                              "DepthwiseSeparableASPPHead", "UPerHead"),
                                            ::testing::Values("d8", "d16")));

TEST(Segmentor, StateDictKeysAreMmsegs) {
  auto psp = build(model_yaml("PSPHead"));
  std::set<std::string> keys;
  for (auto& [k, v] : models::state_dict(*psp)) keys.insert(k);
  for (const char* k : {"backbone.stem.0.weight", "backbone.stem.1.running_mean", "backbone.stem.3.weight",
                        "backbone.stem.7.weight", "backbone.layer1.0.conv1.weight", "backbone.layer1.0.bn1.running_mean",
                        "backbone.layer2.0.downsample.0.weight", "backbone.layer2.0.downsample.1.weight",
                        "decode_head.psp_modules.0.1.conv.weight", "decode_head.psp_modules.3.1.bn.weight",
                        "decode_head.bottleneck.conv.weight", "decode_head.conv_seg.weight", "decode_head.conv_seg.bias",
                        "auxiliary_head.convs.0.conv.weight", "backbone.layer1.0.bn1.num_batches_tracked"})
    EXPECT_TRUE(keys.count(k)) << k;
  EXPECT_FALSE(keys.count("decode_head.bottleneck.conv.bias"));  // no bias before a norm
  auto uper = build(model_yaml("UPerHead"));
  keys.clear();
  for (auto& [k, v] : models::state_dict(*uper)) keys.insert(k);
  for (const char* k : {"decode_head.lateral_convs.2.conv.weight", "decode_head.fpn_convs.0.bn.weight",
                        "decode_head.fpn_bottleneck.conv.weight", "decode_head.psp_modules.1.1.conv.weight"})
    EXPECT_TRUE(keys.count(k)) << k;
  auto dsaspp = build(model_yaml("DepthwiseSeparableASPPHead"));
  keys.clear();
  for (auto& [k, v] : models::state_dict(*dsaspp)) keys.insert(k);
  for (const char* k : {"decode_head.image_pool.1.conv.weight", "decode_head.aspp_modules.0.conv.weight",
                        "decode_head.aspp_modules.1.depthwise_conv.conv.weight",
                        "decode_head.aspp_modules.1.pointwise_conv.bn.weight", "decode_head.c1_bottleneck.conv.weight",
                        "decode_head.sep_bottleneck.1.depthwise_conv.conv.weight"})
    EXPECT_TRUE(keys.count(k)) << k;
}

TEST(Segmentor, WholeAndSlideAgreeWhenTheImageFitsOneCrop) {
  torch::manual_seed(0);
  auto whole = build(model_yaml("PSPHead"));
  auto slide = build(model_yaml("PSPHead", "d8", false, "{mode: slide, crop_size: [64, 64], stride: [48, 48]}"));
  models::load_weights(*slide, models::state_dict(*whole));
  whole->eval();
  slide->eval();
  torch::NoGradGuard ng;
  auto x = torch::randn({1, 3, 48, 64});
  EXPECT_TRUE(torch::allclose(whole->inference(x), slide->inference(x), 1e-6, 1e-6));
  // A larger image takes several overlapping windows and still gives full-size logits.
  auto big = torch::randn({1, 3, 100, 90});
  EXPECT_EQ(slide->inference(big).sizes(), (std::vector<int64_t>{1, 5, 100, 90}));
  // Flip test: the average of the image and its mirror.
  auto flipped = whole->inference(x, true);
  EXPECT_TRUE(torch::allclose(flipped, (whole->inference(x) + whole->inference(x.flip({3})).flip({3})) / 2, 1e-6, 1e-6));
}

TEST(WithCp, SameGradientsLessMemoryAndRunningStatsUpdatedOnce) {
  torch::manual_seed(0);
  auto plain = build(model_yaml("FCNHead"));
  auto cp = build(model_yaml("FCNHead", "d8", /*with_cp=*/true));
  models::load_weights(*cp, models::state_dict(*plain));
  for (auto* m : {&plain, &cp}) (*m)->decode_head->eval(), (*m)->auxiliary_heads[0]->eval();  // no dropout draws
  torch::manual_seed(1);
  auto x = torch::randn({2, 3, 96, 96});
  auto labels = torch::randint(0, 5, {2, 96, 96}, torch::kLong);
  int64_t peak_plain, peak_cp;
  {
    tools::CpuMemoryProbe probe;
    models::total_loss(plain->forward_train(x, labels)).backward();
    peak_plain = probe.peak_bytes();
  }
  {
    tools::CpuMemoryProbe probe;
    models::total_loss(cp->forward_train(x, labels)).backward();
    peak_cp = probe.peak_bytes();
  }
  auto a = plain->named_parameters(), b = cp->named_parameters();
  for (const auto& item : a) {
    ASSERT_TRUE(b[item.key()].grad().defined()) << item.key();
    EXPECT_LE((item.value().grad() - b[item.key()].grad()).abs().max().item<double>(), 1e-6) << item.key();
  }
  auto bufa = plain->named_buffers(), bufb = cp->named_buffers();
  for (const auto& item : bufa)
    EXPECT_TRUE(torch::allclose(item.value().to(torch::kDouble), bufb[item.key()].to(torch::kDouble), 1e-6, 1e-7)) << item.key();
  EXPECT_EQ(bufb["backbone.layer1.0.bn1.num_batches_tracked"].item<int64_t>(), 1);
  EXPECT_LT(peak_cp, peak_plain) << "with_cp peak " << peak_cp << " vs " << peak_plain;
}

// The recomputation in backward runs under the forward's autocast (backward runs outside the
// trainer's scope; without it the recomputed convolutions meet bfloat16 inputs with float32
// weights and throw). Gradients are the plain model's under the same autocast up to bfloat16's
// rounding: the no-grad forward and its recomputation may take other kernels than a plain
// forward (float32 differs by ~1e-8 too), and bfloat16 turns that into a few ulps.
TEST(WithCp, RecomputesInTheForwardsMixedPrecision) {
  torch::manual_seed(0);
  auto plain = build(model_yaml("FCNHead"));
  auto cp = build(model_yaml("FCNHead", "d8", /*with_cp=*/true));
  models::load_weights(*cp, models::state_dict(*plain));
  for (auto* m : {&plain, &cp}) (*m)->decode_head->eval(), (*m)->auxiliary_heads[0]->eval();  // no dropout draws
  auto x = torch::randn({2, 3, 64, 64});
  auto labels = torch::randint(0, 5, {2, 64, 64}, torch::kLong);
  for (auto* m : {&plain, &cp}) {
    torch::Tensor loss;
    {
      models::AutocastScope bf16(at::kBFloat16, c10::DeviceType::CPU);
      loss = models::total_loss((*m)->forward_train(x, labels));
    }
    loss.backward();
  }
  std::vector<torch::Tensor> want, got;
  auto b = cp->named_parameters();
  for (const auto& item : plain->named_parameters()) {
    ASSERT_TRUE(b[item.key()].grad().defined()) << item.key();
    want.push_back(item.value().grad().flatten());
    got.push_back(b[item.key()].grad().flatten());
  }
  const auto w = torch::cat(want), g = torch::cat(got);
  EXPECT_LE(((w - g).norm() / w.norm()).item<double>(), 0.02);
}

// MMSeg's BasicBlock (ResNet-18/34): conv1 takes the stage's stride and dilation, conv2 is a
// plain 3x3 (padding 1); the Bottleneck dilates its 3x3 conv2 (mmseg/models/backbones/resnet.py).
TEST(ResNet, DilationSitsWhereMmsegPutsIt) {
  // (kernel, dilation, padding) of the conv called `name`.
  auto conv = [](models::EncoderDecoder& m, const std::string& name) -> std::array<int64_t, 3> {
    for (const auto& item : m->named_modules())
      if (item.key() == name) {
        const auto& o = item.value()->as<torch::nn::Conv2d>()->options;
        return {o.kernel_size()->at(0), o.dilation()->at(0),
                std::get<torch::ExpandingArray<2>>(o.padding())->at(0)};
      }
    ADD_FAILURE() << "no module " << name;
    return {0, 0, 0};
  };
  auto r18 = build(model_yaml("FCNHead"));
  EXPECT_EQ(conv(r18, "backbone.layer4.1.conv1"), (std::array<int64_t, 3>{3, 4, 4}));
  EXPECT_EQ(conv(r18, "backbone.layer4.1.conv2"), (std::array<int64_t, 3>{3, 1, 1}));
  auto r50 = build("model: {type: EncoderDecoder, backbone: " + backbone_yaml("d8", 50) +
                   ", decode_head: " + head_yaml("FCNHead") + "}");
  EXPECT_EQ(conv(r50, "backbone.layer4.1.conv1"), (std::array<int64_t, 3>{1, 1, 0}));
  EXPECT_EQ(conv(r50, "backbone.layer4.1.conv2"), (std::array<int64_t, 3>{3, 4, 4}));
}

TEST(Segmentor, ConfigErrorsNameTheKey) {
  EXPECT_SEGTRAIN_ERROR(build(R"(model: {type: EncoderDecoder, backbone: {type: ResNet50}, decode_head: {}})"),
                        ErrorKind::User, "unknown backbone 'ResNet50'");
  auto bad_head = model_yaml("PSPHead");
  bad_head.replace(bad_head.find("type: PSPHead"), 13, "type: PSPHaed");
  EXPECT_SEGTRAIN_ERROR(build(bad_head), ErrorKind::User, "unknown head 'PSPHaed' (did you mean 'PSPHead'?)");
  auto bad_param = model_yaml("PSPHead");
  bad_param.replace(bad_param.find("pool_scales"), 11, "pool_scale");
  EXPECT_SEGTRAIN_ERROR(build(bad_param), ErrorKind::User, "unknown key 'model.decode_head.pool_scale' (did you mean 'pool_scales'?)");
  auto both = model_yaml("PSPHead");  // pretrained weights named twice (MMSeg asserts the same)
  both.replace(both.find("pretrained: null"), 16, "pretrained: open-mmlab://resnet50_v1c");
  both.replace(both.find("with_cp:"), 0, "pretrained: r18.pth, ");
  EXPECT_SEGTRAIN_ERROR(build(both), ErrorKind::User, "both the segmentor and its backbone name pretrained weights");
}

TEST(Segmentor, EveryBaseModelConfigBuildsAndRuns) {
  const char* root = std::getenv("SEGTRAIN_SOURCE_ROOT");
  ASSERT_NE(root, nullptr);
  int built = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(root) / "configs/_base_/models")) {
    auto cfg = config::Config::load(entry.path());
    auto model = models::build_segmentor(cfg.at("model"));
    model->eval();
    torch::NoGradGuard ng;
    EXPECT_EQ(model->inference(torch::randn({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, 19, 64, 64}))
        << entry.path();
    ++built;
  }
  EXPECT_GE(built, 5);
}
