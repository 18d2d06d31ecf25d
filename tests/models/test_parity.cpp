// segtrain's models against the independent torch.nn definitions in parity_reference.py,
// mit_reference.py and swin_reference.py:
// the same weights (loaded by name from torch.save files) give the same logits and gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"
#include "segtrain/models/pretrained.h"
#include "segtrain/models/registry.h"
#include "segtrain/models/weights.h"

using namespace segtrain;

namespace {

std::filesystem::path dir() {
  const char* d = std::getenv("SEGTRAIN_PARITY_DATA");
  return d ? d : "";
}

// MiT-B0's and a B2-depth MiT's sizes (mit_reference.py's MIT_CASES).
const std::string kMitB0 =
    "type: MixVisionTransformer, embed_dims: 32, num_layers: [2, 2, 2, 2], num_heads: [1, 2, 5, 8], "
    "sr_ratios: [8, 4, 2, 1]";
const std::string kMitB2Small =
    "type: MixVisionTransformer, embed_dims: 16, num_layers: [3, 4, 6, 3], num_heads: [1, 2, 5, 8], "
    "sr_ratios: [8, 4, 2, 1]";

// Swin-T, a Swin-S-depth Swin at a third of the width (with an absolute position embedding), and the
// narrow Swin under UPerHead (swin_reference.py's SWIN_CASES and UPER_BACKBONE); no stochastic depth.
const std::string kSwinT =
    "type: SwinTransformer, embed_dims: 96, depths: [2, 2, 6, 2], num_heads: [3, 6, 12, 24], window_size: 7, "
    "drop_path_rate: 0.0";
const std::string kSwinSSmall =
    "type: SwinTransformer, embed_dims: 32, depths: [2, 2, 18, 2], num_heads: [1, 2, 4, 8], window_size: 7, "
    "drop_path_rate: 0.0, use_abs_pos_embed: true, pretrain_img_size: 72";
const std::string kSwinUper =
    "type: SwinTransformer, embed_dims: 16, depths: [2, 2, 2, 2], num_heads: [1, 2, 4, 8], window_size: 7, "
    "drop_path_rate: 0.0";

// The sizes parity_reference.py uses.
std::string model_config(const std::string& head) {
  if (head == "swin_uper")
    return "model: {type: EncoderDecoder, backbone: {" + kSwinUper +
           "}, decode_head: {type: UPerHead, in_channels: [16, 32, 64, 128], in_index: [0, 1, 2, 3], "
           "pool_scales: [1, 2, 3, 6], channels: 8, num_classes: 5, dropout_ratio: 0.0, norm_cfg: {type: BN}, "
           "align_corners: false}}";
  if (head == "segformer")
    return "model: {type: EncoderDecoder, backbone: {" + kMitB0 +
           "}, decode_head: {type: SegformerHead, in_channels: [32, 64, 160, 256], in_index: [0, 1, 2, 3], "
           "channels: 16, num_classes: 5, dropout_ratio: 0.0, norm_cfg: {type: BN}, align_corners: false}}";
  const std::string backbone =
      "{type: ResNetV1c, depth: 50, stem_channels: 16, base_channels: 8, strides: [1, 2, 1, 1], dilations: [1, 1, 2, 4],"
      " contract_dilation: true, norm_cfg: {type: BN, requires_grad: true}}";
  const std::string common = ", channels: 8, num_classes: 5, dropout_ratio: 0.0, norm_cfg: {type: BN}, align_corners: false}";
  const std::string decode =
      head == "psp" ? "{type: PSPHead, in_channels: 256, in_index: 3, pool_scales: [1, 2, 3, 6]" + common
                    : "{type: UPerHead, in_channels: [32, 64, 128, 256], in_index: [0, 1, 2, 3], "
                      "pool_scales: [1, 2, 3, 6]" + common;
  return "model: {type: EncoderDecoder, backbone: " + backbone + ", decode_head: " + decode + "}";
}

std::map<std::string, torch::Tensor> read(const std::string& file) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : io::read_weights(dir() / file)) out[k] = v;
  return out;
}

// Each parameter's gradient against the reference's "grad.<name>" (1e-4 relative to its largest
// value); returns how many were compared.
int expect_gradients_match(const torch::nn::Module& module, const std::map<std::string, torch::Tensor>& expected) {
  int compared = 0;
  for (const auto& item : module.named_parameters()) {
    const auto want = expected.find("grad." + item.key());
    if (want == expected.end()) {
      ADD_FAILURE() << "no reference gradient for " << item.key();
      continue;
    }
    const double scale = std::max(1e-3, want->second.abs().max().item<double>());
    EXPECT_LE((item.value().grad() - want->second).abs().max().item<double>() / scale, 1e-4) << item.key();
    ++compared;
  }
  return compared;
}

class Parity : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Parity, LogitsAndGradientsMatchTheTorchNnReference) {
  ASSERT_FALSE(dir().empty()) << "run through tests/run_with_fixture.sh";
  const std::string head = GetParam();
  auto cfg = config::Config::from_string(model_config(head));
  auto model = models::build_segmentor(cfg.at("model"));
  auto expected = read(head + "_expected.pth");

  for (const char* file : {"_weights.pth", "_mmseg.pth"}) {  // plain dict, and MMSeg's {'meta', 'state_dict'}
    auto report = models::load_weights(*model, io::read_weights(dir() / (head + file)));
    EXPECT_TRUE(report.missing.empty()) << report.missing.front();
    EXPECT_TRUE(report.unexpected.empty()) << report.unexpected.front();
    EXPECT_TRUE(report.mismatched.empty());
  }
  model->eval();
  {
    torch::NoGradGuard ng;
    auto logits = model->inference(expected["input"]);
    const double scale = std::max(1.0, expected["logits"].abs().max().item<double>());
    EXPECT_LE((logits - expected["logits"]).abs().max().item<double>() / scale, 1e-5);
  }
  model->train();
  auto losses = model->forward_train(expected["input"], expected["label"]);
  EXPECT_NEAR(losses["decode.loss_ce"].item<double>(), expected["loss"].item<double>(), 1e-5);
  losses["decode.loss_ce"].backward();
  EXPECT_GT(expect_gradients_match(*model, expected), 100);
}

INSTANTIATE_TEST_SUITE_P(PspUperSegformerAndSwin, Parity, ::testing::Values("psp", "uper", "segformer", "swin_uper"));

// The ResNet family's variants (parity_reference.py's BACKBONE_CASES), MiT (mit_reference.py's
// MIT_CASES) and Swin (swin_reference.py's SWIN_CASES), the same sizes: stage outputs in eval mode and the gradients of a weighted sum of
// the training-mode outputs.
class BackboneParity : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BackboneParity, StageOutputsAndGradientsMatchTheTorchNnReference) {
  ASSERT_FALSE(dir().empty()) << "run through tests/run_with_fixture.sh";
  const auto& [name, yaml] = GetParam();
  auto cfg = config::Config::from_string("backbone: {" + yaml + "}");
  auto backbone = models::build_backbone(cfg.at("backbone"));
  auto report = models::load_weights(*backbone, io::read_weights(dir() / ("backbone_" + name + "_weights.pth")));
  EXPECT_TRUE(report.missing.empty()) << report.missing.front();
  EXPECT_TRUE(report.unexpected.empty()) << report.unexpected.front();
  EXPECT_TRUE(report.mismatched.empty()) << report.mismatched.front();
  auto expected = read("backbone_" + name + "_expected.pth");
  const auto x = expected["input"];
  backbone->eval();
  {
    torch::NoGradGuard ng;
    auto outs = backbone->forward(x);
    ASSERT_EQ(outs.size(), 4u);
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const auto& want = expected["out" + std::to_string(i)];
      ASSERT_EQ(outs[i].sizes(), want.sizes()) << "stage " << i;
      EXPECT_LE((outs[i] - want).abs().max().item<double>() / std::max(1.0, want.abs().max().item<double>()), 1e-5)
          << "stage " << i;
    }
  }
  backbone->train();
  auto outs = backbone->forward(x);
  torch::Tensor loss = torch::zeros({});
  for (std::size_t i = 0; i < outs.size(); ++i) loss = loss + (outs[i] * expected["loss_weight" + std::to_string(i)]).sum();
  loss.backward();
  EXPECT_GT(expect_gradients_match(*backbone, expected), 40);
}

INSTANTIATE_TEST_SUITE_P(
    ResNetMiTAndSwin, BackboneParity,
    ::testing::Values(std::make_pair(std::string("v1b_r18"),
                                     std::string("type: ResNet, depth: 18, strides: [1, 2, 1, 1], dilations: [1, 1, 2, 4], "
                                                 "contract_dilation: true, stem_channels: 16, base_channels: 8, "
                                                 "norm_cfg: {type: BN}")),
                      std::make_pair(std::string("v1d_r50"),
                                     std::string("type: ResNetV1d, depth: 50, strides: [1, 2, 2, 1], dilations: [1, 1, 1, 2], "
                                                 "multi_grid: [1, 2, 4], stem_channels: 16, base_channels: 8, "
                                                 "norm_cfg: {type: BN}")),
                      std::make_pair(std::string("mit_b0"), kMitB0),
                      std::make_pair(std::string("mit_b2_small"), kMitB2Small),
                      std::make_pair(std::string("swin_t"), kSwinT),
                      std::make_pair(std::string("swin_s_small"), kSwinSSmall)),
    [](const auto& info) { return info.param.first; });

// model.pretrained as MMSeg's configs give it: open-mmlab://resnet50_v1c resolves to MMCV's file in
// torch's hub cache, the backbone's tensors load by name, the classifier is reported and left out.
TEST(Pretrained, OpenMmlabNameLoadsTheBackboneFromTorchsHubCache) {
  ASSERT_FALSE(dir().empty()) << "run through tests/run_with_fixture.sh";
  const auto home = std::filesystem::temp_directory_path() / ("segtrain_torch_home_" + std::to_string(::getpid()));
  std::filesystem::create_directories(home / "hub" / "checkpoints");
  ::setenv("TORCH_HOME", home.c_str(), 1);
  auto cfg = config::Config::from_string(model_config("psp").replace(
      std::string("model: {type: EncoderDecoder, ").size(), 0, "pretrained: open-mmlab://resnet50_v1c, "));
  const auto spec = models::pretrained_of(cfg.at("model"));
  ASSERT_TRUE(spec.has_value());
  try {
    models::resolve_pretrained(*spec);
    ADD_FAILURE() << "no error for a file not in the cache";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("key 'model.pretrained'"), std::string::npos) << what;
    EXPECT_NE(what.find("put resnet50_v1c-2cccc1ad.pth"), std::string::npos) << what;
    EXPECT_NE(what.find((home / "hub" / "checkpoints").string()), std::string::npos) << what;
  }
  std::filesystem::copy_file(dir() / "backbone_imagenet.pth",
                             home / "hub" / "checkpoints" / "resnet50_v1c-2cccc1ad.pth");
  const auto file = models::resolve_pretrained(*spec);
  EXPECT_EQ(file, home / "hub" / "checkpoints" / "resnet50_v1c-2cccc1ad.pth");

  auto model = models::build_segmentor(cfg.at("model"));
  const auto report = models::load_pretrained(*model->backbone, io::read_weights(file), file.string());
  EXPECT_TRUE(report.missing.empty()) << report.missing.front();
  EXPECT_TRUE(report.mismatched.empty());
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"fc.* (2 tensors, the classifier)"}));
  std::map<std::string, torch::Tensor> want;
  for (auto& [k, v] : io::read_weights(file)) want[k] = v;
  int compared = 0;
  for (const auto& [name, tensor] : models::state_dict(*model->backbone)) {
    ASSERT_TRUE(want.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, want[name])) << name;
    ++compared;
  }
  EXPECT_EQ(static_cast<std::size_t>(compared), report.loaded);
  // A whole MMSeg checkpoint as the pretrained file: its backbone part.
  auto other = models::build_segmentor(cfg.at("model"));
  const auto whole = dir() / "psp_mmseg.pth";
  EXPECT_EQ(models::load_pretrained(*other->backbone, io::read_weights(whole), whole.string()).loaded, report.loaded);
  std::filesystem::remove_all(home);
  ::unsetenv("TORCH_HOME");
}

TEST(Pretrained, ConfigForms) {
  auto spec_of = [](const std::string& model) {
    return models::pretrained_of(config::Config::from_string("model: " + model).at("model"));
  };
  EXPECT_FALSE(spec_of("{pretrained: null, backbone: {type: ResNetV1c}}"));
  const auto init =
      spec_of("{backbone: {type: ResNetV1c, init_cfg: {type: Pretrained, checkpoint: torchvision://resnet50}}}");
  ASSERT_TRUE(init);
  EXPECT_EQ(init->checkpoint, "torchvision://resnet50");
  EXPECT_EQ(init->key.path(), "model.backbone.init_cfg.checkpoint");
  EXPECT_THROW(spec_of("{pretrained: a.pth, backbone: {type: ResNetV1c, pretrained: b.pth}}"), Error);
  EXPECT_THROW(spec_of("{backbone: {type: ResNetV1c, init_cfg: {type: Kaiming}}}"), Error);
  EXPECT_THROW(models::resolve_pretrained(*spec_of("{pretrained: open-mmlab://resnet9_v1c}")), Error);
  EXPECT_THROW(models::resolve_pretrained(*spec_of("{pretrained: /nowhere/r50.pth}")), Error);
}
