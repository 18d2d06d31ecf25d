// segtrain's models against the independent torch.nn definition in parity_reference.py:
// the same weights (loaded by name from torch.save files) give the same logits and gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <map>

#include "segtrain/config/config.h"
#include "segtrain/models/registry.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"
#include "segtrain/models/weights.h"

using namespace segtrain;

namespace {

std::filesystem::path dir() {
  const char* d = std::getenv("SEGTRAIN_PARITY_DATA");
  return d ? d : "";
}

// The sizes parity_reference.py uses.
std::string model_config(const std::string& head) {
  const std::string backbone =
      "{type: ResNetV1c, depth: 50, stem_channels: 16, base_channels: 8, strides: [1, 2, 1, 1], dilations: [1, 1, 2, 4],"
      " contract_dilation: true, norm_cfg: {type: BN, requires_grad: true}}";
  const std::string common = ", channels: 8, num_classes: 5, dropout_ratio: 0.0, norm_cfg: {type: BN}, align_corners: false}";
  const std::string decode =
      head == "psp" ? "{type: PSPHead, in_channels: 256, in_index: 3, pool_scales: [1, 2, 3, 6]" + common
                    : "{type: UPerHead, in_channels: [32, 64, 128, 256], in_index: [0, 1, 2, 3], "
                      "input_transform: multiple_select, pool_scales: [1, 2, 3, 6]" + common;
  return "model: {type: EncoderDecoder, backbone: " + backbone + ", decode_head: " + decode + "}";
}

std::map<std::string, torch::Tensor> read(const std::string& file) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : io::read_weights(dir() / file)) out[k] = v;
  return out;
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
  int compared = 0;
  for (const auto& item : model->named_parameters()) {
    auto want = expected.find("grad." + item.key());
    ASSERT_NE(want, expected.end()) << item.key();
    const double scale = std::max(1e-3, want->second.abs().max().item<double>());
    EXPECT_LE((item.value().grad() - want->second).abs().max().item<double>() / scale, 1e-4) << item.key();
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

INSTANTIATE_TEST_SUITE_P(PspAndUper, Parity, ::testing::Values("psp", "uper"));
