#include "segtrain/models/activation_checkpoint.h"

#include <ATen/Context.h>
#include <torch/autograd.h>

#include "segtrain/models/autocast_scope.h"

namespace segtrain::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Recompute {
  torch::nn::Module* block;
  const std::function<torch::Tensor(const torch::Tensor&)>* fn;
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, at::TensorList params, Recompute how) {
    ctx->save_for_backward({x});
    // Kept alive by the caller's module; the function object lives in the block (see ResNet).
    ctx->saved_data["block"] = reinterpret_cast<int64_t>(how.block);
    ctx->saved_data["fn"] = reinterpret_cast<int64_t>(how.fn);
    ctx->saved_data["params"] = static_cast<int64_t>(params.size());
    // Backward runs outside the trainer's autocast: the recomputation reopens the forward's.
    const auto autocast = AutocastScope::current(x.device().type());
    ctx->saved_data["autocast"] = autocast ? static_cast<int64_t>(*autocast) : int64_t{-1};
    // The recomputation draws the same random numbers (dropout, DropPath): torch.utils.checkpoint's
    // preserve_rng_state.
    ctx->saved_data["rng"] = at::globalContext().defaultGenerator(x.device()).get_state();
    torch::NoGradGuard no_grad;
    return (*how.fn)(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto* block = reinterpret_cast<torch::nn::Module*>(ctx->saved_data["block"].toInt());
    auto* fn = reinterpret_cast<const std::function<torch::Tensor(const torch::Tensor&)>*>(ctx->saved_data["fn"].toInt());
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    // Running statistics must not move twice: keep them as they are now.
    std::vector<torch::Tensor> buffers, saved;
    for (auto& b : block->buffers()) {
      buffers.push_back(b);
      saved.push_back(b.clone());
    }
    torch::Tensor y;
    {
      at::Generator generator = at::globalContext().defaultGenerator(x.device());
      const at::Tensor now = generator.get_state();
      generator.set_state(ctx->saved_data["rng"].toTensor());
      torch::AutoGradMode enable(true);
      const int64_t autocast = ctx->saved_data["autocast"].toInt();
      AutocastScope same_precision(autocast < 0 ? std::nullopt : std::optional(static_cast<at::ScalarType>(autocast)),
                                   x.device().type());
      y = (*fn)(x);
      generator.set_state(now);  // the rest of the step draws as if nothing was recomputed
    }
    std::vector<torch::Tensor> inputs{x};
    for (auto& p : block->parameters())
      if (p.requires_grad()) inputs.push_back(p);
    auto grads = torch::autograd::grad({y}, inputs, {grad_out[0]}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
    {
      // After differentiating: batch_norm's backward checks the versions of the buffers it saw.
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
    }
    variable_list out{grads[0]};
    // One gradient per entry of `params` (those given to apply), then none for `how`.
    std::size_t k = 1;
    for (auto& p : block->parameters()) out.push_back(p.requires_grad() ? grads[k++] : torch::Tensor());
    out.emplace_back();
    return out;
  }
};

}  // namespace

torch::Tensor activation_checkpoint(torch::nn::Module& block, const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                           const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled() || !block.is_training()) return fn(x);
  std::vector<torch::Tensor> params = block.parameters();
  return CheckpointFunction::apply(x, at::TensorList(params), Recompute{&block, &fn});
}

}  // namespace segtrain::models
