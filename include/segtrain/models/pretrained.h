#pragma once
// ImageNet-pretrained backbones, found and loaded as MMCV does it, without downloading:
//   model.pretrained: open-mmlab://resnet50_v1c        (MMSeg 0.x: the backbone's init_cfg)
//   model.backbone.init_cfg: {type: Pretrained, checkpoint: torchvision://resnet50}
// A name resolves to the file MMCV would have downloaded, in torch's hub cache
// ($TORCH_HOME/hub/checkpoints; TORCH_HOME defaults to $XDG_CACHE_HOME/torch, ~/.cache/torch), so
// a machine that ran MMSeg already has it; a URL to its file name there; anything else is a path.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "segtrain/config/config.h"
#include "segtrain/models/weights.h"

namespace segtrain::models {

// What the model config asks the backbone to start from, and the key that says so; none when
// both places are null. Both set is a user error (MMSeg asserts the same).
struct PretrainedSpec {
  std::string checkpoint;
  config::ConfigNode key;
};
std::optional<PretrainedSpec> pretrained_of(const config::ConfigNode& model);

// torch's hub checkpoint folder, from the environment.
std::filesystem::path torch_hub_checkpoints();

// The local file of `spec`: a user error naming the key and the file to put where if it is not
// there (segtrain downloads nothing).
std::filesystem::path resolve_pretrained(const PretrainedSpec& spec);

// MMCV's load_checkpoint(strict=False) into the backbone, given the file's tensors (read by
// io::read_weights, which drops the `state_dict` wrapper and `module.`): a `backbone.` prefix is
// taken when the file is a whole segmentor's, and the ImageNet classifier (`fc.*`) is left out.
// A user error naming `file` if nothing fits.
LoadReport load_pretrained(torch::nn::Module& backbone,
                           const std::vector<std::pair<std::string, torch::Tensor>>& weights, const std::string& file);

}  // namespace segtrain::models
