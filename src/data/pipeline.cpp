#include "segtrain/data/pipeline.h"

#include <functional>
#include <map>

#include "segtrain/core/suggest.h"
#include "segtrain/data/transforms/geometric.h"
#include "segtrain/data/transforms/photometric.h"

namespace segtrain::data {
namespace {

using config::ConfigNode;
using Steps = std::vector<std::shared_ptr<const Transform>>;
// Context handed down from MultiScaleFlipAug to the steps inside it.
struct Context {
  std::optional<std::array<int64_t, 2>> img_scale;
};
using Builder = std::function<void(const ConfigNode&, const Context&, Steps&)>;

template <typename T, std::size_t N> std::array<T, N> fixed(const ConfigNode& node) {
  auto v = node.as<std::vector<T>>();
  if (v.size() != N) throw node.error("expected a list of " + std::to_string(N) + " numbers");
  std::array<T, N> out{};
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

// crop_size / size may be one number (a square) or (h, w).
std::array<int64_t, 2> size_pair(const ConfigNode& node) {
  if (!node.is_list()) {
    int64_t v = node.as<int64_t>();
    return {v, v};
  }
  return fixed<int64_t, 2>(node);
}

void build_into(const ConfigNode& list, const Context& ctx, Steps& out);

const std::map<std::string, std::pair<std::vector<std::string>, Builder>>& registry() {
  static const std::map<std::string, std::pair<std::vector<std::string>, Builder>> r = {
      {"Resize",
       {{"img_scale", "ratio_range", "keep_ratio", "multiscale_mode"},
        [](const ConfigNode& c, const Context& ctx, Steps& out) {
          std::optional<std::array<int64_t, 2>> scale = ctx.img_scale;
          if (c.has("img_scale") && !c.at("img_scale").is_null()) scale = fixed<int64_t, 2>(c.at("img_scale"));
          if (!scale) throw c.error("Resize needs img_scale (or a MultiScaleFlipAug around it)");
          std::optional<std::array<double, 2>> ratio;
          if (c.has("ratio_range") && !c.at("ratio_range").is_null()) ratio = fixed<double, 2>(c.at("ratio_range"));
          if (c.has("multiscale_mode") && c.get<std::string>("multiscale_mode") != "range")
            throw c.at("multiscale_mode").error("only 'range' is supported");
          out.push_back(std::make_shared<Resize>(*scale, ratio, c.get<bool>("keep_ratio", true)));
        }}},
      {"RandomCrop",
       {{"crop_size", "cat_max_ratio", "ignore_index"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          out.push_back(std::make_shared<RandomCrop>(size_pair(c.at("crop_size")), c.get<double>("cat_max_ratio", 1.0),
                                                     c.get<int>("ignore_index", 255)));
        }}},
      {"RandomFlip",
       {{"prob", "flip_ratio", "direction"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          if (c.has("direction") && c.get<std::string>("direction") != "horizontal")
            throw c.at("direction").error("only 'horizontal' is supported");
          out.push_back(std::make_shared<RandomFlip>(c.get<double>("prob", c.get<double>("flip_ratio", 0.0))));
        }}},
      {"PhotoMetricDistortion",
       {{"brightness_delta", "contrast_range", "saturation_range", "hue_delta"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          out.push_back(std::make_shared<PhotoMetricDistortion>(
              c.get<double>("brightness_delta", 32),
              c.has("contrast_range") ? fixed<double, 2>(c.at("contrast_range")) : std::array<double, 2>{0.5, 1.5},
              c.has("saturation_range") ? fixed<double, 2>(c.at("saturation_range")) : std::array<double, 2>{0.5, 1.5},
              c.get<int>("hue_delta", 18)));
        }}},
      {"Normalize",
       {{"mean", "std", "to_rgb"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          out.push_back(std::make_shared<Normalize>(
              NormalizeParams{fixed<double, 3>(c.at("mean")), fixed<double, 3>(c.at("std")), c.get<bool>("to_rgb", true)}));
        }}},
      {"Pad",
       {{"size", "size_divisor", "pad_val", "seg_pad_val"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          std::optional<std::array<int64_t, 2>> size;
          if (c.has("size") && !c.at("size").is_null()) size = size_pair(c.at("size"));
          const int64_t divisor = c.get<int64_t>("size_divisor", 0);
          if (!size && divisor <= 0) throw c.error("Pad needs size or size_divisor");
          out.push_back(std::make_shared<Pad>(size, divisor, c.get<double>("pad_val", 0), c.get<int>("seg_pad_val", 255)));
        }}},
      {"MultiScaleFlipAug",
       {{"img_scale", "flip", "img_ratios", "transforms"},
        [](const ConfigNode& c, const Context&, Steps& out) {
          if (c.get<bool>("flip", false))
            throw c.at("flip").error("flip test is done by segtest --aug-test, not in the pipeline; set flip: false");
          if (c.has("img_ratios")) throw c.at("img_ratios").error("multi-scale test is not supported yet");
          Context inner;
          if (c.has("img_scale") && !c.at("img_scale").is_null()) inner.img_scale = fixed<int64_t, 2>(c.at("img_scale"));
          build_into(c.at("transforms"), inner, out);
        }}},
  };
  return r;
}

// MMSeg steps that load or format data: shards hold decoded images and class ids already.
const std::map<std::string, std::vector<std::string>>& no_ops() {
  static const std::map<std::string, std::vector<std::string>> n = {
      {"LoadImageFromFile", {"to_float32", "color_type", "file_client_args", "imdecode_backend"}},
      {"LoadAnnotations", {"reduce_zero_label", "file_client_args", "imdecode_backend"}},
      {"DefaultFormatBundle", {}},
      {"ImageToTensor", {"keys"}},
      {"Collect", {"keys", "meta_keys"}},
  };
  return n;
}

void build_into(const ConfigNode& list, const Context& ctx, Steps& out) {
  for (const auto& step : list.items()) {
    const std::string type = step.get<std::string>("type");
    std::vector<std::string> keys{"type"};
    if (auto it = registry().find(type); it != registry().end()) {
      keys.insert(keys.end(), it->second.first.begin(), it->second.first.end());
      step.check_keys(keys);
      it->second.second(step, ctx, out);
    } else if (auto skip = no_ops().find(type); skip != no_ops().end()) {
      keys.insert(keys.end(), skip->second.begin(), skip->second.end());
      step.check_keys(keys);
    } else {
      std::vector<std::string> valid;
      for (const auto& [name, _] : registry()) valid.push_back(name);
      for (const auto& [name, _] : no_ops()) valid.push_back(name);
      throw step.at("type").error("unknown pipeline step '" + type + "'" + did_you_mean(type, valid) +
                                  "; valid steps are " + quoted_list(valid));
    }
  }
}

}  // namespace

Pipeline::Pipeline(const ConfigNode& steps) { build_into(steps, Context{}, steps_); }

void Pipeline::apply(Sample& sample, Rng& rng) const {
  for (const auto& step : steps_) {
    if (!step->accepts_pending()) materialize(sample);
    step->apply(sample, rng);
  }
  materialize(sample);
}

std::optional<Pipeline::NormalizeSplit> Pipeline::split_at_normalize() const {
  std::optional<std::size_t> at;
  for (std::size_t i = 0; i < steps_.size(); ++i)
    if (dynamic_cast<const Normalize*>(steps_[i].get())) {
      if (at) return std::nullopt;
      at = i;
    }
  if (!at) return std::nullopt;
  for (std::size_t i = *at + 1; i < steps_.size(); ++i) {
    const auto* pad = dynamic_cast<const Pad*>(steps_[i].get());
    if (!pad || pad->pad_val() != 0) return std::nullopt;
  }
  auto before = std::make_shared<Pipeline>(), pads = std::make_shared<Pipeline>();
  before->steps_.assign(steps_.begin(), steps_.begin() + static_cast<std::ptrdiff_t>(*at));
  pads->steps_.assign(steps_.begin() + static_cast<std::ptrdiff_t>(*at) + 1, steps_.end());
  return NormalizeSplit{before, pads, static_cast<const Normalize&>(*steps_[*at]).params()};
}

std::vector<std::string> Pipeline::names() const {
  std::vector<std::string> out;
  for (const auto& s : steps_) out.push_back(s->name());
  return out;
}

}  // namespace segtrain::data
