#pragma once
// Small MMSeg-style model configs for the tests: a ResNetV1c-18 backbone (narrow stem) with
// each head, D8 or D16.
#include <string>

namespace segtrain::testing {

inline std::string backbone_yaml(const std::string& dilation = "d8", int depth = 18, bool with_cp = false) {
  const std::string strides = dilation == "d8" ? "[1, 2, 1, 1]" : "[1, 2, 2, 1]";
  const std::string dilations = dilation == "d8" ? "[1, 1, 2, 4]" : "[1, 1, 1, 2]";
  return "{type: ResNetV1c, depth: " + std::to_string(depth) + ", stem_channels: 16, base_channels: 8, strides: " +
         strides + ", dilations: " + dilations + ", contract_dilation: true, norm_cfg: {type: BN, requires_grad: true}" +
         ", with_cp: " + (with_cp ? "true" : "false") + "}";
}

// depth 18: stage channels 8, 16, 32, 64.
inline std::string head_yaml(const std::string& type, int num_classes = 5) {
  const std::string common = ", channels: 8, num_classes: " + std::to_string(num_classes) +
                             ", dropout_ratio: 0.1, norm_cfg: {type: BN}, align_corners: false"
                             ", loss_decode: {type: CrossEntropyLoss, use_sigmoid: false, loss_weight: 1.0}";
  if (type == "FCNHead") return "{type: FCNHead, in_channels: 64, in_index: 3, num_convs: 2, concat_input: true" + common + "}";
  if (type == "PSPHead") return "{type: PSPHead, in_channels: 64, in_index: 3, pool_scales: [1, 2, 3, 6]" + common + "}";
  if (type == "ASPPHead") return "{type: ASPPHead, in_channels: 64, in_index: 3, dilations: [1, 6, 12, 18]" + common + "}";
  if (type == "DepthwiseSeparableASPPHead")
    return "{type: DepthwiseSeparableASPPHead, in_channels: 64, in_index: 3, dilations: [1, 12, 24, 36], "
           "c1_in_channels: 8, c1_channels: 4" + common + "}";
  return "{type: UPerHead, in_channels: [8, 16, 32, 64], in_index: [0, 1, 2, 3], "
         "pool_scales: [1, 2, 3, 6]" + common + "}";
}

inline std::string model_yaml(const std::string& head, const std::string& dilation = "d8", bool with_cp = false,
                              const std::string& test_cfg = "{mode: whole}") {
  return "model: {type: EncoderDecoder, pretrained: null, backbone: " + backbone_yaml(dilation, 18, with_cp) +
         ", decode_head: " + head_yaml(head) +
         ", auxiliary_head: {type: FCNHead, in_channels: 32, in_index: 2, channels: 4, num_convs: 1, concat_input: false,"
         " dropout_ratio: 0.1, num_classes: 5, norm_cfg: {type: BN}, align_corners: false,"
         " loss_decode: {type: CrossEntropyLoss, loss_weight: 0.4}}, test_cfg: " + test_cfg + "}";
}

}  // namespace segtrain::testing
