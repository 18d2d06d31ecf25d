#include "segtrain/dist/sync_batch_norm.h"

#include <torch/autograd.h>
#include <torch/nn/init.h>

#include "segtrain/core/error.h"

namespace segtrain::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// View a per-channel vector [C] so it broadcasts over [N, C, H, W].
torch::Tensor per_channel(const torch::Tensor& v) { return v.view({1, -1, 1, 1}); }

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, torch::Tensor weight, torch::Tensor bias,
                               torch::Tensor running_mean, torch::Tensor running_var, double eps, double momentum,
                               Communicator* comm) {
    const int64_t channels = input.size(1);
    const auto compute = input.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    torch::Tensor x = input.to(compute);
    const int64_t local_count = input.numel() / channels;

    // This rank's statistics, then everyone's: [mean (C), biased var (C), count (1)] per rank.
    torch::Tensor mean, var;
    if (local_count > 0) {
      std::tie(var, mean) = torch::var_mean(x, {0, 2, 3}, /*correction=*/0);
    } else {
      mean = torch::zeros({channels}, x.options());
      var = torch::zeros({channels}, x.options());
    }
    torch::Tensor stats = torch::cat({mean, var, torch::full({1}, static_cast<double>(local_count), x.options())});
    // One fixed-shape collective whatever the backend; the totals stay on the device (no sync).
    torch::Tensor all = comm->allgather_same_shape(stats).to(torch::kDouble);  // [world, 2C+1]
    torch::Tensor counts = all.select(1, 2 * channels);
    torch::Tensor total = counts.sum().clamp_min(1);  // an empty batch everywhere: zeros, not NaN
    torch::Tensor means = all.narrow(1, 0, channels), vars = all.narrow(1, channels, channels);
    torch::Tensor w = (counts / total).unsqueeze(1);
    // Parallel-variance combination: within-rank variance plus spread of the rank means.
    torch::Tensor global_mean = (w * means).sum(0);
    torch::Tensor global_var = (w * (vars + (means - global_mean).pow(2))).sum(0);
    torch::Tensor invstd = (global_var + eps).rsqrt();

    {
      torch::NoGradGuard no_grad;
      if (running_mean.defined()) {
        running_mean.mul_(1 - momentum).add_(global_mean.to(running_mean.scalar_type()), momentum);
        // torch's unbiased estimate: n / (n - 1), or 1 for a single value.
        const torch::Tensor unbias =
            torch::where(total > 1, total / (total - 1).clamp_min(1), torch::ones_like(total));
        running_var.mul_(1 - momentum).add_((global_var * unbias).to(running_var.scalar_type()), momentum);
      }
    }
    mean = global_mean.to(compute);
    invstd = invstd.to(compute);
    torch::Tensor scale = weight.defined() ? invstd * weight.to(compute) : invstd;
    torch::Tensor out = (x - per_channel(mean)) * per_channel(scale);
    if (bias.defined()) out = out + per_channel(bias.to(compute));

    ctx->save_for_backward({input, weight, mean, invstd, total.to(compute)});
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    return out.to(input.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor input = saved[0], weight = saved[1], mean = saved[2], invstd = saved[3], total = saved[4];
    auto* comm = reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
    const int64_t channels = input.size(1);
    const auto compute = mean.scalar_type();
    torch::Tensor dy = grad_outputs[0].to(compute);
    torch::Tensor xmu = input.to(compute) - per_channel(mean);

    torch::Tensor sum_dy = dy.sum({0, 2, 3});
    torch::Tensor sum_dy_xmu = (dy * xmu).sum({0, 2, 3});
    torch::Tensor grad_weight, grad_bias;
    if (weight.defined()) grad_weight = (sum_dy_xmu * invstd).to(weight.scalar_type());
    if (weight.defined()) grad_bias = sum_dy.to(weight.scalar_type());

    torch::Tensor global = torch::cat({sum_dy, sum_dy_xmu});
    comm->allreduce(global, ReduceOp::Sum);
    torch::Tensor mean_dy = global.narrow(0, 0, channels) / total;
    torch::Tensor mean_dy_xmu = global.narrow(0, channels, channels) / total;
    torch::Tensor scale = weight.defined() ? invstd * weight.to(compute) : invstd;
    torch::Tensor grad_input = (dy - per_channel(mean_dy) - xmu * per_channel(invstd * invstd * mean_dy_xmu)) *
                               per_channel(scale);
    return {grad_input.to(input.scalar_type()), grad_weight, grad_bias, torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SyncBatchNormImpl::SyncBatchNormImpl(int64_t num_features, std::shared_ptr<Communicator> comm, double eps,
                                     double momentum)
    : num_features(num_features), eps(eps), momentum(momentum), comm(std::move(comm)) {
  reset();
}

void SyncBatchNormImpl::reset() {
  weight = register_parameter("weight", torch::ones({num_features}));
  bias = register_parameter("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor SyncBatchNormImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4, "SyncBatchNorm expects [N, C, H, W], got ", input.sizes());
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  if (!is_training() || !comm || !comm->communicates())
    return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum, eps,
                             /*cudnn_enabled=*/true);
  return SyncBatchNormFunction::apply(input, weight, bias, running_mean, running_var, eps, momentum, comm.get());
}

void SyncBatchNormImpl::pretty_print(std::ostream& stream) const {
  stream << "segtrain::SyncBatchNorm(" << num_features << ", eps=" << eps << ", momentum=" << momentum
         << ", world=" << (comm ? comm->size() : 1) << ")";
}

}  // namespace segtrain::dist
