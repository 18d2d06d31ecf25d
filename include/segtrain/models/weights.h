#pragma once
// Weights by name, as MMSeg's load_checkpoint (strict=False): a `.pth` saved by Python's
// torch.save — a plain dict of tensors, or MMSeg's {'meta', 'state_dict'} — or by segtrain.
// A leading `module.` (DataParallel) is dropped. Missing, unexpected and shape-mismatched keys
// are reported; mismatched ones are skipped.
#include <torch/nn/module.h>

#include <filesystem>
#include <string>
#include <vector>

namespace segtrain::models {

struct LoadReport {
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  std::vector<std::string> mismatched;  // same name, other shape: "name: file [..] vs model [..]"
  std::size_t loaded = 0;
};

// The (name, tensor) pairs of a .pth file's state dict.
std::vector<std::pair<std::string, torch::Tensor>> read_state_dict(const std::filesystem::path& file);
LoadReport load_weights(torch::nn::Module& model, const std::vector<std::pair<std::string, torch::Tensor>>& state);

// The module's parameters and buffers by MMSeg name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& model);

}  // namespace segtrain::models
