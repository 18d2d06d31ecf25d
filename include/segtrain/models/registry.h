#pragma once
// Builds models from the config's `model` section by `type:` name, as MMSeg's registries do.
// An unknown type or parameter is an error naming the key and listing the valid ones.
//   segmentors: EncoderDecoder
//   backbones: ResNet, ResNetV1c, ResNetV1d, MixVisionTransformer
//   heads: FCNHead, PSPHead, ASPPHead, DepthwiseSeparableASPPHead, UPerHead, SegformerHead
#include <memory>

#include "segtrain/config/config.h"
#include "segtrain/models/segmentor.h"

namespace segtrain::models {

// `comm` serves the SyncBN layers (null, or one rank: plain BatchNorm).
EncoderDecoder build_segmentor(const config::ConfigNode& model, std::shared_ptr<dist::Communicator> comm = nullptr);
std::shared_ptr<Backbone> build_backbone(const config::ConfigNode& node,
                                         std::shared_ptr<dist::Communicator> comm = nullptr);
// A user error naming model.decode_head.num_classes unless it equals the dataset's class count.
void check_num_classes(const config::ConfigNode& model_cfg, EncoderDecoder& model, std::size_t dataset_classes,
                       const std::string& dataset);
std::shared_ptr<DecodeHead> build_head(const config::ConfigNode& node, std::shared_ptr<dist::Communicator> comm = nullptr);

}  // namespace segtrain::models
