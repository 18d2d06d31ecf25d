#include "segtrain/models/registry.h"

#include "segtrain/models/pretrained.h"

#include <functional>
#include <map>

#include "segtrain/core/suggest.h"
#include "segtrain/models/backbones/mix_vision_transformer.h"
#include "segtrain/models/backbones/resnet.h"
#include "segtrain/models/backbones/swin_transformer.h"
#include "segtrain/models/heads/heads.h"

namespace segtrain::models {
namespace {

using config::ConfigNode;
using Comm = std::shared_ptr<dist::Communicator>;
using HeadFactory = std::function<std::shared_ptr<DecodeHead>(const ConfigNode&, Comm)>;

std::vector<int64_t> ints(const ConfigNode& n, const char* key, std::vector<int64_t> fallback) {
  return n.has(key) ? n.get<std::vector<int64_t>>(key) : fallback;
}

const std::map<std::string, HeadFactory>& heads() {
  static const std::map<std::string, HeadFactory> r = {
      {"FCNHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"num_convs", "kernel_size", "concat_input", "dilation"}, c);
         return std::make_shared<FCNHead>(o, n.get<int>("num_convs", 2), n.get<int64_t>("kernel_size", 3),
                                          n.get<bool>("concat_input", true), n.get<int64_t>("dilation", 1));
       }},
      {"PSPHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"pool_scales"}, c);
         return std::make_shared<PSPHead>(o, ints(n, "pool_scales", {1, 2, 3, 6}));
       }},
      {"ASPPHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"dilations"}, c);
         return std::make_shared<ASPPHead>(o, ints(n, "dilations", {1, 6, 12, 18}));
       }},
      {"DepthwiseSeparableASPPHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"dilations", "c1_in_channels", "c1_channels"}, c);
         return std::make_shared<DepthwiseSeparableASPPHead>(o, ints(n, "dilations", {1, 6, 12, 18}),
                                                             n.get<int64_t>("c1_in_channels"), n.get<int64_t>("c1_channels"));
       }},
      {"UPerHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"pool_scales"}, c, "multiple_select");
         return std::make_shared<UPerHead>(o, ints(n, "pool_scales", {1, 2, 3, 6}));
       }},
      {"SegformerHead",
       [](const ConfigNode& n, Comm c) {
         auto o = HeadOptions::parse(n, {"interpolate_mode"}, c, "multiple_select");
         if (n.get<std::string>("interpolate_mode", "bilinear") != "bilinear")
           throw n.at("interpolate_mode").error("only 'bilinear' is supported");
         return std::make_shared<SegformerHead>(o);
       }},
  };
  return r;
}

template <typename Map> std::vector<std::string> names(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [k, _] : m) out.push_back(k);
  return out;
}

void require_type(const ConfigNode& node, const std::vector<std::string>& valid, const char* what) {
  const std::string type = node.get<std::string>("type");
  if (std::find(valid.begin(), valid.end(), type) == valid.end())
    throw node.at("type").error(std::string("unknown ") + what + " '" + type + "'" + did_you_mean(type, valid) +
                                "; valid types are " + quoted_list(valid));
}

ResNet build_resnet(const ConfigNode& n, Comm comm) {
  const std::string type = n.get<std::string>("type");
  // ResNetV1c and V1d fix deep_stem and avg_down themselves (MMSeg refuses them as arguments too).
  std::vector<std::string> keys{"type", "depth", "in_channels", "stem_channels", "base_channels", "num_stages",
                                "strides", "dilations", "out_indices", "style", "contract_dilation", "multi_grid",
                                "norm_cfg", "norm_eval", "with_cp", "frozen_stages", "pretrained", "init_cfg"};
  if (type == "ResNet") keys.insert(keys.end(), {"deep_stem", "avg_down"});
  n.check_keys(keys);
  ResNetOptions o;
  o.deep_stem = type != "ResNet" || n.get<bool>("deep_stem", false);
  o.avg_down = type == "ResNetV1d" || (type == "ResNet" && n.get<bool>("avg_down", false));
  o.depth = n.get<int>("depth");
  o.in_channels = n.get<int>("in_channels", 3);
  o.stem_channels = n.get<int>("stem_channels", 64);
  o.base_channels = n.get<int>("base_channels", 64);
  o.num_stages = n.get<int>("num_stages", 4);
  o.strides = ints(n, "strides", o.strides);
  o.dilations = ints(n, "dilations", o.dilations);
  o.out_indices = ints(n, "out_indices", o.out_indices);
  o.contract_dilation = n.get<bool>("contract_dilation", false);
  if (n.has("multi_grid") && !n.at("multi_grid").is_null()) o.multi_grid = ints(n, "multi_grid", {});
  o.norm_eval = n.get<bool>("norm_eval", false);
  o.with_cp = n.get<bool>("with_cp", false);
  o.frozen_stages = n.get<int>("frozen_stages", -1);
  if (n.get<std::string>("style", "pytorch") != "pytorch") throw n.at("style").error("only 'pytorch' is supported");
  if (n.has("norm_cfg")) o.norm = NormConfig::parse(n.at("norm_cfg"), comm);
  return ResNet(o);
}

// The transformer backbones' common keys: act_cfg (GELU only), norm_cfg (LN), dropout rates.
void check_gelu(const ConfigNode& n) {
  if (n.has("act_cfg") && n.at("act_cfg").get<std::string>("type") != "GELU")
    throw n.at("act_cfg").error("only GELU is supported");
}

double layer_norm_eps(const ConfigNode& norm) {
  norm.check_keys({"type", "eps", "requires_grad"});
  if (norm.get<std::string>("type") != "LN") throw norm.at("type").error("only LN is supported");
  if (!norm.get<bool>("requires_grad", true))
    throw norm.at("requires_grad").error("frozen LayerNorms are not supported; leave it true");
  return norm.get<double>("eps", 1e-5);
}

void check_rates(const ConfigNode& n) {
  for (const char* rate : {"drop_rate", "attn_drop_rate", "drop_path_rate"})
    if (n.get<double>(rate, 0.0) < 0 || n.get<double>(rate, 0.0) >= 1) throw n.at(rate).error("must be in [0, 1)");
}

// Every entry of out_indices must name one of `stages` stages.
void check_out_indices(const ConfigNode& n, const std::vector<int64_t>& out_indices, std::size_t stages) {
  for (const int64_t i : out_indices)
    if (i < 0 || i >= static_cast<int64_t>(stages))
      throw n.at("out_indices").error("entries must be stage indices below " + std::to_string(stages));
}

// MMSeg's MixVisionTransformer; LayerNorm and GELU are its only norm and activation.
MixVisionTransformer build_mix_vision_transformer(const ConfigNode& n) {
  n.check_keys({"type", "in_channels", "embed_dims", "num_stages", "num_layers", "num_heads", "patch_sizes", "strides",
                "sr_ratios", "out_indices", "mlp_ratio", "qkv_bias", "drop_rate", "attn_drop_rate", "drop_path_rate",
                "act_cfg", "norm_cfg", "pretrained", "init_cfg", "with_cp"});
  MixVisionTransformerOptions o;
  o.in_channels = n.get<int64_t>("in_channels", 3);
  o.embed_dims = n.get<int64_t>("embed_dims", 64);
  o.num_layers = ints(n, "num_layers", o.num_layers);
  o.num_heads = ints(n, "num_heads", o.num_heads);
  o.patch_sizes = ints(n, "patch_sizes", o.patch_sizes);
  o.strides = ints(n, "strides", o.strides);
  o.sr_ratios = ints(n, "sr_ratios", o.sr_ratios);
  o.out_indices = ints(n, "out_indices", o.out_indices);
  const auto stages = static_cast<std::size_t>(n.get<int64_t>("num_stages", 4));
  const std::pair<const char*, const std::vector<int64_t>*> per_stage[] = {
      {"num_layers", &o.num_layers}, {"num_heads", &o.num_heads}, {"patch_sizes", &o.patch_sizes},
      {"strides", &o.strides},       {"sr_ratios", &o.sr_ratios}};
  for (const auto& [key, list] : per_stage)
    if (list->size() != stages)
      throw (n.has(key) ? n.at(key) : n).error(std::string(key) + " needs one entry per stage (num_stages: " +
                                               std::to_string(stages) + ")");
  check_out_indices(n, o.out_indices, stages);
  o.mlp_ratio = n.get<int64_t>("mlp_ratio", 4);
  o.qkv_bias = n.get<bool>("qkv_bias", true);
  o.drop_rate = n.get<double>("drop_rate", 0.0);
  o.attn_drop_rate = n.get<double>("attn_drop_rate", 0.0);
  o.drop_path_rate = n.get<double>("drop_path_rate", 0.0);
  check_rates(n);
  check_gelu(n);
  if (n.has("norm_cfg")) o.norm_eps = layer_norm_eps(n.at("norm_cfg"));  // its own: LayerNorm's default eps
  o.with_cp = n.get<bool>("with_cp", false);
  return MixVisionTransformer(o);
}

// MMSeg's SwinTransformer; the number of stages is len(depths).
SwinTransformer build_swin_transformer(const ConfigNode& n) {
  n.check_keys({"type", "pretrain_img_size", "in_channels", "embed_dims", "patch_size", "window_size", "mlp_ratio",
                "depths", "num_heads", "strides", "out_indices", "qkv_bias", "qk_scale", "patch_norm", "drop_rate",
                "attn_drop_rate", "drop_path_rate", "use_abs_pos_embed", "act_cfg", "norm_cfg", "with_cp", "pretrained",
                "frozen_stages", "init_cfg"});
  SwinTransformerOptions o;
  if (n.has("pretrain_img_size")) {
    const auto size = n.at("pretrain_img_size");
    o.pretrain_img_size = size.is_list() ? size.as<std::vector<int64_t>>() : std::vector<int64_t>{size.as<int64_t>()};
    if (o.pretrain_img_size.size() == 1) o.pretrain_img_size.push_back(o.pretrain_img_size[0]);
    if (o.pretrain_img_size.size() != 2) throw size.error("expected a size or an (h, w) pair");
  }
  o.in_channels = n.get<int64_t>("in_channels", 3);
  o.embed_dims = n.get<int64_t>("embed_dims", 96);
  o.patch_size = n.get<int64_t>("patch_size", 4);
  o.window_size = n.get<int64_t>("window_size", 7);
  o.mlp_ratio = n.get<double>("mlp_ratio", 4.0);
  o.depths = ints(n, "depths", o.depths);
  o.num_heads = ints(n, "num_heads", o.num_heads);
  o.strides = ints(n, "strides", o.strides);
  o.out_indices = ints(n, "out_indices", o.out_indices);
  const std::size_t stages = o.depths.size();
  if (stages == 0) throw n.at("depths").error("needs at least one stage");
  const std::string per_stage = "needs one entry per stage (len(depths): " + std::to_string(stages) + ")";
  if (o.num_heads.size() != stages) throw (n.has("num_heads") ? n.at("num_heads") : n).error(per_stage);
  if (o.strides.size() < stages) throw (n.has("strides") ? n.at("strides") : n).error(per_stage);
  if (o.strides[0] != o.patch_size)
    throw (n.has("strides") ? n.at("strides") : n).error("strides[0] must equal patch_size (a non-overlapping patch embedding)");
  for (const char* key : {"in_channels", "embed_dims", "patch_size", "window_size"})
    if (n.has(key) && n.get<int64_t>(key) < 1) throw n.at(key).error("must be positive");
  for (const int64_t stride : o.strides)
    if (stride < 1) throw n.at("strides").error("entries must be positive");
  for (std::size_t i = 0; i < stages; ++i)
    if (o.num_heads[i] < 1 || (o.embed_dims << i) % o.num_heads[i] != 0)
      throw (n.has("num_heads") ? n.at("num_heads") : n.has("embed_dims") ? n.at("embed_dims") : n)
          .error("stage " + std::to_string(i) + "'s " + std::to_string(o.embed_dims << i) +
                 " channels do not split into " + std::to_string(o.num_heads[i]) + " heads");
  check_out_indices(n, o.out_indices, stages);
  o.qkv_bias = n.get<bool>("qkv_bias", true);
  if (n.has("qk_scale") && !n.at("qk_scale").is_null()) o.qk_scale = n.get<double>("qk_scale");
  o.patch_norm = n.get<bool>("patch_norm", true);
  o.drop_rate = n.get<double>("drop_rate", 0.0);
  o.attn_drop_rate = n.get<double>("attn_drop_rate", 0.0);
  o.drop_path_rate = n.get<double>("drop_path_rate", 0.1);
  check_rates(n);
  o.use_abs_pos_embed = n.get<bool>("use_abs_pos_embed", false);
  check_gelu(n);
  if (n.has("norm_cfg")) o.norm_eps = layer_norm_eps(n.at("norm_cfg"));
  o.frozen_stages = n.get<int64_t>("frozen_stages", -1);
  if (o.frozen_stages > static_cast<int64_t>(stages)) throw n.at("frozen_stages").error("is more than the number of stages");
  o.with_cp = n.get<bool>("with_cp", false);
  return SwinTransformer(o);
}

}  // namespace

std::shared_ptr<Backbone> build_backbone(const ConfigNode& n, Comm comm) {
  require_type(n, {"ResNet", "ResNetV1c", "ResNetV1d", "MixVisionTransformer", "SwinTransformer"}, "backbone");
  const std::string type = n.get<std::string>("type");
  if (type == "MixVisionTransformer") return build_mix_vision_transformer(n).ptr();
  if (type == "SwinTransformer") return build_swin_transformer(n).ptr();
  return build_resnet(n, comm).ptr();
}

std::shared_ptr<DecodeHead> build_head(const ConfigNode& n, Comm comm) {
  require_type(n, names(heads()), "head");
  return heads().at(n.get<std::string>("type"))(n, comm);
}

EncoderDecoder build_segmentor(const ConfigNode& model, Comm comm) {
  require_type(model, {"EncoderDecoder"}, "segmentor");
  model.check_keys({"type", "pretrained", "backbone", "decode_head", "auxiliary_head", "train_cfg", "test_cfg",
                    "init_cfg"});
  pretrained_of(model);  // checked here; loaded by the trainer (models/pretrained.h)
  // In config order, so the first error reported is the first one in the file.
  std::shared_ptr<Backbone> backbone = build_backbone(model.at("backbone"), comm);
  std::shared_ptr<DecodeHead> decode_head = build_head(model.at("decode_head"), comm);
  std::vector<std::shared_ptr<DecodeHead>> aux;
  if (model.has("auxiliary_head") && !model.at("auxiliary_head").is_null()) {
    const auto a = model.at("auxiliary_head");
    if (a.is_list())
      for (const auto& item : a.items()) aux.push_back(build_head(item, comm));
    else
      aux.push_back(build_head(a, comm));
  }
  TestConfig test;
  if (model.has("test_cfg") && !model.at("test_cfg").is_null()) {
    const auto t = model.at("test_cfg");
    t.check_keys({"mode", "crop_size", "stride"});
    test.mode = t.get<std::string>("mode", "whole");
    if (test.mode != "whole" && test.mode != "slide") throw t.at("mode").error("expected 'whole' or 'slide'");
    if (test.mode == "slide") {
      auto crop = t.get<std::vector<int64_t>>("crop_size"), stride = t.get<std::vector<int64_t>>("stride");
      if (crop.size() != 2 || stride.size() != 2) throw t.error("crop_size and stride are (h, w) pairs");
      test.crop_size = {crop[0], crop[1]};
      test.stride = {stride[0], stride[1]};
    }
  }
  return EncoderDecoder(backbone, decode_head, aux, test);
}

void check_num_classes(const ConfigNode& model_cfg, EncoderDecoder& model, std::size_t dataset_classes,
                       const std::string& dataset) {
  const int64_t num_classes = model->decode_head->options().num_classes;
  if (num_classes != static_cast<int64_t>(dataset_classes))
    throw model_cfg.at("decode_head").at("num_classes").error(
        c10::str("is ", num_classes, " but the dataset ", dataset, " has ", dataset_classes, " classes"));
}

}  // namespace segtrain::models
