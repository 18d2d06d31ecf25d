#include "segtrain/dist/reducer.h"

#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/nn/module.h>

#include <map>
#include <mutex>

#include "segtrain/core/error.h"

namespace segtrain::dist {
namespace {

using Clock = std::chrono::steady_clock;

struct Bucket {
  std::vector<std::size_t> params;  // indices into Impl::params
  std::vector<int64_t> offsets;     // element offset of each in `buffer`
  at::Tensor buffer;                // flat: where gradients meet the communicator
  at::Tensor wire;                  // with compress_to: what travels, 16 bits per element
  std::size_t pending = 0;          // gradients still missing this iteration
  std::shared_ptr<Work> work;
};

}  // namespace

struct Reducer::Impl : std::enable_shared_from_this<Reducer::Impl> {
  std::vector<std::string> names;
  std::vector<at::Tensor> params;
  std::shared_ptr<Communicator> comm;
  ReducerOptions options;

  std::vector<Bucket> buckets;
  std::vector<std::size_t> bucket_of, slot_of;  // param -> (bucket, position in bucket)
  // Kept alive for the hooks. The pointer type changed (shared_ptr up to torch 2.11,
  // intrusive_ptr later); take whatever grad_accumulator returns.
  using AccumulatorPtr = decltype(torch::autograd::impl::grad_accumulator(std::declval<const at::Tensor&>()));
  std::vector<AccumulatorPtr> accumulators;
  std::vector<uintptr_t> hook_keys;

  std::mutex mutex;  // hooks may run on autograd worker threads (CUDA)
  std::vector<bool> ready;
  std::size_t next_to_launch = 0;
  bool finalize_queued = false;
  int no_sync_depth = 0;
  ReducerTimeline timeline;

  void build_buckets() {
    // Reverse registration order; one bucket never mixes dtypes or devices.
    std::map<std::string, std::size_t> open;  // dtype+device -> index of its open bucket
    std::vector<int64_t> open_bytes;
    for (std::size_t k = params.size(); k-- > 0;) {
      const at::Tensor& p = params[k];
      const std::string key = std::string(c10::toString(p.scalar_type())) + "@" + p.device().str();
      auto it = open.find(key);
      auto limit = [&](std::size_t bucket) { return bucket == 0 ? options.first_bucket_bytes : options.bucket_bytes; };
      if (it == open.end() || open_bytes[it->second] >= limit(it->second)) {
        buckets.emplace_back();
        open_bytes.push_back(0);
        it = open.insert_or_assign(key, buckets.size() - 1).first;
      }
      Bucket& b = buckets[it->second];
      const int64_t offset = b.offsets.empty() ? 0 : b.offsets.back() + params[b.params.back()].numel();
      b.params.push_back(k);
      b.offsets.push_back(offset);
      open_bytes[it->second] += p.numel() * p.element_size();
    }
    bucket_of.assign(params.size(), 0);
    slot_of.assign(params.size(), 0);
    for (std::size_t bi = 0; bi < buckets.size(); ++bi) {
      Bucket& b = buckets[bi];
      const at::Tensor& first = params[b.params.front()];
      b.buffer = at::zeros({b.offsets.back() + params[b.params.back()].numel()}, first.options());
      b.pending = b.params.size();
      for (std::size_t s = 0; s < b.params.size(); ++s) {
        bucket_of[b.params[s]] = bi;
        slot_of[b.params[s]] = s;
      }
    }
    ready.assign(params.size(), false);
    timeline.bucket_launched.assign(buckets.size(), {});
    timeline.bucket_started.assign(buckets.size(), std::nullopt);
  }

  // The parameter's part of its bucket, with the parameter's strides (channels_last included):
  // autograd then accumulates into it without a layout change, as DDP's bucket views.
  at::Tensor slice(std::size_t param) {
    const Bucket& b = buckets[bucket_of[param]];
    const at::Tensor& p = params[param];
    const at::Tensor part = b.buffer.narrow(0, b.offsets[slot_of[param]], p.numel());
    return p.is_non_overlapping_and_dense() ? part.as_strided(p.sizes(), p.strides(), part.storage_offset())
                                            : part.view(p.sizes());
  }

  // Called after autograd accumulated param's gradient.
  void on_gradient(std::size_t param) {
    std::lock_guard<std::mutex> lock(mutex);
    if (no_sync_depth > 0) return;
    if (!finalize_queued) {
      // The engine runs this once the whole backward pass is done.
      std::weak_ptr<Impl> self = weak_from_this();
      torch::autograd::Engine::get_default_engine().queue_callback([self] {
        if (auto impl = self.lock()) impl->finalize();
      });
      finalize_queued = true;
    }
    if (ready[param]) return;
    ready[param] = true;
    const at::Tensor& grad = params[param].grad();
    at::Tensor into = slice(param);
    if (!grad.defined()) into.zero_();
    else if (grad.data_ptr() != into.data_ptr()) into.copy_(grad);  // else autograd accumulated in place
    --buckets[bucket_of[param]].pending;
    launch_ready();
  }

  void launch_ready() {
    while (next_to_launch < buckets.size() && buckets[next_to_launch].pending == 0) {
      Bucket& b = buckets[next_to_launch];
      timeline.bucket_launched[next_to_launch] = Clock::now();
      if (compresses(b)) {
        // Divided first, so that the 16-bit sum of the ranks' shares cannot overflow where the
        // float32 gradients would not.
        b.wire = b.buffer.div(comm->size()).to(*options.compress_to);
        b.work = comm->allreduce_async(b.wire, ReduceOp::Sum);
      } else {
        b.work = comm->allreduce_async(b.buffer, ReduceOp::Avg);
      }
      ++next_to_launch;
    }
  }

  bool compresses(const Bucket& b) const {
    return options.compress_to && b.buffer.scalar_type() != *options.compress_to &&
           at::isFloatingType(b.buffer.scalar_type()) && b.buffer.element_size() > 2;
  }

  // DDP's rule with find_unused_parameters: a parameter unused on this rank counts as zero in
  // the average, and one that no rank used keeps no gradient (SGD's momentum and weight decay
  // then do not move it, as in MMSeg). Knowing that takes one more collective, only then.
  std::vector<bool> used_by_any_rank(const std::vector<std::size_t>& unused_here) {
    std::vector<bool> used(params.size(), true);
    if (!options.find_unused_parameters) return used;
    std::vector<float> here(params.size(), 1.0f);
    for (std::size_t i : unused_here) here[i] = 0.0f;
    at::Tensor count = at::tensor(here).to(params.front().device());
    comm->allreduce(count, ReduceOp::Sum);
    const at::Tensor host = count.cpu();
    const float* ranks_using = host.data_ptr<float>();
    for (std::size_t i = 0; i < params.size(); ++i) used[i] = ranks_using[i] > 0;
    return used;
  }

  void finalize() {
    std::lock_guard<std::mutex> lock(mutex);
    timeline.backward_finished = Clock::now();
    // Parameters that got no gradient still take part, as zeros, so every rank issues the
    // same collectives; without find_unused_parameters that is an error, raised afterwards.
    std::vector<std::size_t> unused;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (ready[i]) continue;
      unused.push_back(i);
      slice(i).zero_();
      --buckets[bucket_of[i]].pending;
    }
    launch_ready();
    for (std::size_t bi = 0; bi < buckets.size(); ++bi) {
      Bucket& b = buckets[bi];
      b.work->wait();
      timeline.bucket_started[bi] = b.work->started_at();
      if (b.wire.defined()) {
        b.buffer.copy_(b.wire);
        b.wire.reset();
      }
    }
    timeline.synchronized = Clock::now();
    const std::vector<bool> used = used_by_any_rank(unused);
    // Gradients alias their bucket (DDP's gradient_as_bucket_view): no copy back, and when the
    // optimizer zeroes rather than drops them (the Runner does), the next backward accumulates
    // straight into the bucket. They share its storage without being autograd views, which
    // LibTorch's Optimizer::zero_grad could not detach_().
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!used[i]) {  // no rank used it: no gradient, so the optimizer leaves it alone
        params[i].mutable_grad().reset();
        continue;
      }
      at::Tensor view = slice(i);
      params[i].mutable_grad() =
          at::empty({0}, view.options()).set_(view.storage(), view.storage_offset(), view.sizes(), view.strides());
    }
    // Ready for the next iteration.
    std::fill(ready.begin(), ready.end(), false);
    for (auto& b : buckets) {
      b.pending = b.params.size();
      b.work.reset();
    }
    next_to_launch = 0;
    finalize_queued = false;
    if (!unused.empty() && !options.find_unused_parameters) {
      std::string list;
      for (std::size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", " : "") + names[unused[i]];
      if (unused.size() > 5) list += ", ... (" + std::to_string(unused.size()) + " in all)";
      throw user_error("find_unused_parameters",
                       "parameters got no gradient in this backward pass: " + list +
                           "; set find_unused_parameters: true in the config if the model leaves them out on purpose");
    }
  }
};

namespace {

// Runs after AccumulateGrad: the parameter's .grad now holds this pass's (accumulated) gradient.
class GradientReadyHook : public torch::autograd::FunctionPostHook {
 public:
  GradientReadyHook(std::weak_ptr<Reducer::Impl> reducer, std::size_t param)
      : reducer_(std::move(reducer)), param_(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    if (auto r = reducer_.lock()) r->on_gradient(param_);
    return outputs;
  }

 private:
  std::weak_ptr<Reducer::Impl> reducer_;
  std::size_t param_;
};

}  // namespace

Reducer::Reducer(std::vector<std::pair<std::string, at::Tensor>> params, std::shared_ptr<Communicator> comm,
                 ReducerOptions options)
    : impl_(std::make_shared<Impl>()) {
  // Its own communicator: which bucket is ready when may differ between ranks (unused
  // parameters), and SyncBN's backward collectives must not meet the buckets out of order.
  impl_->comm = comm->duplicate();
  impl_->options = options;
  if (options.compress_to && *options.compress_to != at::kHalf && *options.compress_to != at::kBFloat16)
    throw runtime_error("Reducer", std::string("gradients compress to Half or BFloat16, not ") +
                                       c10::toString(*options.compress_to));
  for (auto& [name, p] : params) {
    if (!p.requires_grad()) continue;
    impl_->names.push_back(name);
    impl_->params.push_back(p);
  }
  if (impl_->params.empty()) throw runtime_error("Reducer", "no parameter requires a gradient");
  impl_->build_buckets();
  for (std::size_t i = 0; i < impl_->params.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(impl_->params[i]);
    impl_->hook_keys.push_back(acc->add_post_hook(std::make_unique<GradientReadyHook>(impl_, i)));
    impl_->accumulators.push_back(std::move(acc));
  }
}

Reducer::~Reducer() {
  for (std::size_t i = 0; i < impl_->accumulators.size(); ++i)
    impl_->accumulators[i]->del_post_hook(impl_->hook_keys[i]);
}

Reducer::NoSync::NoSync(Reducer& r) : reducer_(r) {
  std::lock_guard<std::mutex> lock(r.impl_->mutex);
  ++r.impl_->no_sync_depth;
}

Reducer::NoSync::~NoSync() {
  std::lock_guard<std::mutex> lock(reducer_.impl_->mutex);
  --reducer_.impl_->no_sync_depth;
}

std::size_t Reducer::num_buckets() const { return impl_->buckets.size(); }

std::vector<std::vector<std::string>> Reducer::bucket_names() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& b : impl_->buckets) {
    out.emplace_back();
    for (auto i : b.params) out.back().push_back(impl_->names[i]);
  }
  return out;
}

const ReducerTimeline& Reducer::timeline() const { return impl_->timeline; }

void broadcast_module_state(torch::nn::Module& module, Communicator& comm) {
  torch::NoGradGuard no_grad;
  std::vector<std::shared_ptr<Work>> works;
  for (auto& p : module.parameters()) works.push_back(comm.broadcast_async(p.data(), 0));
  for (auto& b : module.buffers()) works.push_back(comm.broadcast_async(b, 0));
  for (auto& w : works) w->wait();
}

}  // namespace segtrain::dist
