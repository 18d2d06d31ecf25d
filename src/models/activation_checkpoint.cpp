#include "segtrain/models/activation_checkpoint.h"

#include <ATen/Context.h>
#include <torch/autograd.h>

#include <mutex>

#include "segtrain/models/autocast_scope.h"

namespace segtrain::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Recompute {
  torch::nn::Module* block;
  const std::function<torch::Tensor(const torch::Tensor&)>* fn;
};

// Sets a generator to an earlier state while it lives, then back to where it was (also when the
// recomputation throws): the rest of the step draws as if nothing was recomputed.
class RngRewind {
 public:
  RngRewind(at::Generator generator, const at::Tensor& earlier) : generator_(std::move(generator)) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    now_ = generator_.get_state();
    generator_.set_state(earlier);
  }
  ~RngRewind() {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(now_);
  }
  RngRewind(const RngRewind&) = delete;
  RngRewind& operator=(const RngRewind&) = delete;

 private:
  at::Generator generator_;
  at::Tensor now_;
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
      RngRewind same_draws(at::globalContext().defaultGenerator(x.device()), ctx->saved_data["rng"].toTensor());
      torch::AutoGradMode enable(true);
      const int64_t autocast = ctx->saved_data["autocast"].toInt();
      AutocastScope same_precision(autocast < 0 ? std::nullopt : std::optional(static_cast<at::ScalarType>(autocast)),
                                   x.device().type());
      y = (*fn)(x);
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
