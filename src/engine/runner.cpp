#include "segtrain/engine/runner.h"

#include <chrono>

namespace segtrain::engine {

Runner::Runner(RunnerParts parts)
    : parts_(std::move(parts)), iter_(parts_.start_iter), position_(parts_.start_position) {}

void Runner::add_hook(std::unique_ptr<Hook> hook) { hooks_.push_back(std::move(hook)); }

void Runner::run() {
  using Clock = std::chrono::steady_clock;
  for (auto& h : hooks_) h->before_train(*this);
  auto& p = parts_;
  while (iter_ < p.max_iters) {
    const auto t0 = Clock::now();
    data::Batch batch = *p.loader->next();
    position_ = batch.position_after;
    const torch::Tensor images = batch.images.to(p.device, /*non_blocking=*/true);
    const torch::Tensor labels = batch.labels.to(p.device, /*non_blocking=*/true);
    data_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->before_iter(*this);

    p.model->train();
    auto losses = p.model->forward_train(images, labels);
    const torch::Tensor loss = models::total_loss(losses);
    p.optimizer.impl->zero_grad();
    loss.backward();  // the reducer averages gradients across ranks while this runs
    if (p.grad_clip_max_norm) torch::nn::utils::clip_grad_norm_(p.model->parameters(), *p.grad_clip_max_norm);
    p.optimizer.impl->step();

    ++iter_;
    // One device-to-host copy for all of them: a single synchronisation per iteration.
    std::vector<torch::Tensor> values;
    for (const auto& [name, value] : losses) values.push_back(value.detach().to(torch::kDouble));
    values.push_back(loss.detach().to(torch::kDouble));
    const torch::Tensor host = torch::stack(values).cpu();
    const double* v = host.data_ptr<double>();
    outputs_.clear();
    for (const auto& [name, value] : losses) outputs_[name] = *v++;
    outputs_["loss"] = *v;
    iter_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& h : hooks_) h->after_iter(*this);
  }
  for (auto& h : hooks_) h->after_train(*this);
}

void LrHook::before_iter(Runner& r) {
  const auto& schedule = r.parts().schedule;
  const int64_t iter = r.iter();
  r.parts().optimizer.set_lr([&](double base) { return schedule.lr(base, iter); });
}

}  // namespace segtrain::engine
