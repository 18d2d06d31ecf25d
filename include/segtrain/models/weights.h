#pragma once
// Weights by name, as MMSeg's load_checkpoint (strict=False); the .pth files themselves are
// io/checkpoint/'s. Missing, unexpected and shape-mismatched keys are reported; mismatched ones
// are skipped.
#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace segtrain::models {

struct LoadReport {
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  std::vector<std::string> mismatched;  // same name, other shape: "name: file [..] vs model [..]"
  std::size_t loaded = 0;
};

LoadReport load_weights(torch::nn::Module& model, const std::vector<std::pair<std::string, torch::Tensor>>& state);

// The module's parameters and buffers by MMSeg name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> state_dict(const torch::nn::Module& model);

}  // namespace segtrain::models
