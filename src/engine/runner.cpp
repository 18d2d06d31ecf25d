#include "segtrain/engine/runner.h"

#include <ATen/ops/_foreach_norm.h>
#include <c10/util/StringUtil.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/dist/collective_watchdog.h"
#include "segtrain/models/autocast_scope.h"

namespace segtrain::engine {
namespace {

std::vector<torch::Tensor> gradients(torch::nn::Module& model) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : model.parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

// max |g| over the gradients, NaN if any is NaN (amax propagates it); a 0-d tensor on the device.
torch::Tensor largest_gradient(const std::vector<torch::Tensor>& grads, const c10::Device& device) {
  if (grads.empty()) return torch::zeros({}, torch::TensorOptions().device(device));
  return torch::stack(at::_foreach_norm(grads, std::numeric_limits<double>::infinity())).max();
}

// MMSeg trains on with a NaN loss and logs "nan" for the rest of the run; we stop at once, with
// the weights and latest.pth of the last good iteration.
void check_finite(int64_t iter, const std::map<std::string, double>& outputs, double largest_gradient) {
  for (const auto& [name, value] : outputs)
    if (name.find("loss") != std::string::npos && !std::isfinite(value))
      throw runtime_error(c10::str("iteration ", iter),
                          c10::str("the loss ", name, " is ", value, "; stopped before the step (lower the lr, or "
                                   "set optimizer_config.grad_clip)"));
  if (!std::isfinite(largest_gradient))
    throw runtime_error(c10::str("iteration ", iter),
                        c10::str("a gradient is ", largest_gradient, " (another rank's loss, or the backward pass, "
                                 "was not finite); stopped before the step"));
}

}  // namespace

Runner::Runner(models::EncoderDecoder model, Optimizer& optimizer, data::Loader& loader, c10::Device device,
               RunnerOptions options)
    : model_(std::move(model)), optimizer_(optimizer),
      feeder_(loader, device, options.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous),
      device_(device), options_(options) {
  state_.max_iters = options_.max_iters;
}

void Runner::resume_at(int64_t iter, data::TrainSampler::Position position) {
  state_.iter = state_.start_iter = iter;
  state_.position = position;
}

void Runner::add_hook(std::unique_ptr<Hook> hook) { hooks_.push_back(std::move(hook)); }

void Runner::run() {
  using Clock = std::chrono::steady_clock;
  auto& s = state_;
  for (auto& h : hooks_) h->before_train(s);
  while (s.iter < s.max_iters) {
    dist::set_collective_context(c10::str("iteration ", s.iter + 1));  // named if a collective hangs
    const auto t0 = Clock::now();
    data::DeviceBatch batch = *feeder_.next();
    s.position = batch.host.position_after;
    const torch::Tensor& images = batch.images;
    const torch::Tensor& labels = batch.labels;
    s.data_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->before_iter(s);
    s.lr = optimizer_.lr();

    model_->train();
    std::map<std::string, torch::Tensor> losses;
    {
      models::AutocastScope autocast(options_.precision.autocast, device_.type());
      losses = model_->forward_train(images, labels);
    }
    const torch::Tensor loss = models::total_loss(losses);
    optimizer_.impl->zero_grad(/*set_to_none=*/!options_.gradients_in_buckets);
    LossScaler* scaler = options_.loss_scaler;
    // The reducer averages gradients across ranks while this runs.
    (scaler ? scaler->scale(loss) : loss).backward();
    const std::vector<torch::Tensor> grads = gradients(*model_);
    const torch::Tensor overflow = scaler ? scaler->unscale(grads) : torch::Tensor();

    // One device-to-host copy for the outputs and the gradients' largest magnitude: a single
    // synchronisation per iteration, before the step, so a non-finite value never reaches the
    // weights (nor a checkpoint). The gradients are averaged over ranks: a rank's NaN is every
    // rank's, and all of them stop at the same iteration.
    std::vector<torch::Tensor> values;
    for (const auto& [name, value] : losses) values.push_back(value.detach().to(torch::kDouble));
    values.push_back(loss.detach().to(torch::kDouble));
    values.push_back(largest_gradient(grads, loss.device()).to(torch::kDouble));
    if (scaler) values.push_back(overflow.to(torch::kDouble));
    const torch::Tensor host = torch::stack(values).cpu();
    const double* v = host.data_ptr<double>();
    s.outputs.clear();
    for (const auto& [name, value] : losses) s.outputs[name] = *v++;
    s.outputs["loss"] = *v++;
    const double largest = *v++;
    const bool skip = scaler && *v > 0;  // the averaged gradients overflowed: the same on every rank
    check_finite(s.iter + 1, s.outputs, skip ? 0.0 : largest);

    if (skip) {
      ++s.skipped_steps;
      log::info(c10::str("iteration ", s.iter + 1, ": float16 gradients overflowed at loss scale ",
                         scaler->current_scale(), "; step skipped (", s.skipped_steps, " so far)"));
    } else {
      if (options_.grad_clip_max_norm)
        torch::nn::utils::clip_grad_norm_(model_->parameters(), *options_.grad_clip_max_norm);
      optimizer_.impl->step();
    }
    if (scaler) scaler->update(overflow);
    ++s.iter;
    s.iter_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->after_iter(s);
  }
  for (auto& h : hooks_) h->after_train(s);
}

}  // namespace segtrain::engine
