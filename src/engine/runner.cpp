#include "segtrain/engine/runner.h"

#include <chrono>

namespace segtrain::engine {

Runner::Runner(models::EncoderDecoder model, Optimizer& optimizer, data::Loader& loader, c10::Device device,
               RunnerOptions options)
    : model_(std::move(model)), optimizer_(optimizer), loader_(loader), device_(device), options_(options) {
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
    const auto t0 = Clock::now();
    data::Batch batch = *loader_.next();
    s.position = batch.position_after;
    const torch::Tensor images = batch.images.to(device_, /*non_blocking=*/true);
    const torch::Tensor labels = batch.labels.to(device_, /*non_blocking=*/true);
    s.data_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->before_iter(s);
    s.lr = optimizer_.lr();

    model_->train();
    auto losses = model_->forward_train(images, labels);
    const torch::Tensor loss = models::total_loss(losses);
    optimizer_.impl->zero_grad();
    loss.backward();  // the reducer averages gradients across ranks while this runs
    if (options_.grad_clip_max_norm)
      torch::nn::utils::clip_grad_norm_(model_->parameters(), *options_.grad_clip_max_norm);
    optimizer_.impl->step();

    ++s.iter;
    // One device-to-host copy for all of them: a single synchronisation per iteration.
    std::vector<torch::Tensor> values;
    for (const auto& [name, value] : losses) values.push_back(value.detach().to(torch::kDouble));
    values.push_back(loss.detach().to(torch::kDouble));
    const torch::Tensor host = torch::stack(values).cpu();
    const double* v = host.data_ptr<double>();
    s.outputs.clear();
    for (const auto& [name, value] : losses) s.outputs[name] = *v++;
    s.outputs["loss"] = *v;
    s.iter_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->after_iter(s);
  }
  for (auto& h : hooks_) h->after_train(s);
}

}  // namespace segtrain::engine
