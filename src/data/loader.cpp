#include "segtrain/data/loader.h"

#include <ATen/ATen.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "segtrain/core/error.h"

namespace segtrain::data {

Sample load_sample(const ShardDataset& dataset, const Pipeline& pipeline, std::size_t index, uint64_t seed,
                   int64_t epoch, bool with_label) {
  return transform_sample(dataset.read(index), pipeline, index, seed, epoch, with_label);
}

Sample transform_sample(RawSample raw, const Pipeline& pipeline, std::size_t index, uint64_t seed, int64_t epoch,
                        bool with_label) {
  Sample s;
  s.name = raw.name;
  s.image = raw.image;
  if (with_label) s.label = raw.label;
  s.ori_shape = {raw.image.size(0), raw.image.size(1)};
  Rng rng(mix_seed(seed, static_cast<uint64_t>(epoch), index));
  pipeline.apply(s, rng);
  return s;
}

namespace {

// Samples in a batch must agree in size for training: crop and pad make them so. `raw`: the
// device normalizes, images stay uint8 and NHWC, labels uint8.
Batch collate_train(std::vector<Sample>& samples, const std::string& where, bool raw) {
  Batch b;
  std::vector<at::Tensor> images, labels;
  for (auto& s : samples) {
    if (s.image.sizes() != samples.front().image.sizes())
      throw user_error(where, "samples of one batch differ in size (" + std::to_string(s.image.size(0)) + "x" +
                                  std::to_string(s.image.size(1)) + " vs " +
                                  std::to_string(samples.front().image.size(0)) + "x" +
                                  std::to_string(samples.front().image.size(1)) +
                                  "); the train pipeline needs RandomCrop and Pad to a fixed size");
    images.push_back(raw ? s.image : s.image.to(at::kFloat).permute({2, 0, 1}));
    labels.push_back(raw ? s.label : s.label.to(at::kLong));
    b.names.push_back(s.name);
  }
  b.images = at::stack(images).contiguous();
  b.labels = at::stack(labels).contiguous();
  return b;
}

// Evaluation images may differ in size: pad each to the batch's largest (zeros), keep shapes.
Batch collate_eval(std::vector<Sample>& samples, std::vector<at::Tensor> gts) {
  Batch b;
  int64_t h = 0, w = 0;
  for (auto& s : samples) {
    h = std::max(h, s.image.size(0));
    w = std::max(w, s.image.size(1));
  }
  b.images = at::zeros({static_cast<int64_t>(samples.size()), 3, h, w}, at::kFloat);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& img = samples[i].image;
    b.images[i].narrow(1, 0, img.size(0)).narrow(2, 0, img.size(1)).copy_(img.to(at::kFloat).permute({2, 0, 1}));
    b.img_shapes.push_back({img.size(0), img.size(1)});
    b.names.push_back(samples[i].name);
  }
  b.gt = std::move(gts);
  return b;
}

struct Plan {
  std::vector<std::size_t> indices;
  std::vector<int64_t> epochs;
  TrainSampler::Position after;
};

}  // namespace

struct Loader::Impl {
  std::shared_ptr<ShardDataset> dataset;
  Pipeline pipeline;
  std::optional<Pipeline::NormalizeSplit> split;  // set: Normalize is left to the device
  LoaderOptions options;
  bool training = true;
  std::optional<TrainSampler> sampler;  // training
  std::vector<std::size_t> eval_order;  // evaluation
  std::size_t eval_next = 0;

  std::mutex mutex;
  std::condition_variable changed;
  int64_t scheduled = 0, consumed = 0;
  bool exhausted = false, stopping = false;
  std::map<int64_t, std::pair<std::optional<Batch>, std::exception_ptr>> ready;  // by batch number
  std::vector<std::thread> workers;

  // The next batch's samples, in batch order (called under the lock).
  std::optional<Plan> draw() {
    Plan p;
    if (training) {
      for (int i = 0; i < options.batch_size; ++i) {
        p.indices.push_back(sampler->next());
        p.epochs.push_back(sampler->position().epoch);  // the epoch the sample was drawn in
      }
      p.after = sampler->position();
      return p;
    }
    if (eval_next >= eval_order.size()) return std::nullopt;
    for (int i = 0; i < options.batch_size && eval_next < eval_order.size(); ++i) {
      p.indices.push_back(eval_order[eval_next++]);
      p.epochs.push_back(0);
    }
    return p;
  }

  Batch make(const Plan& plan) {
    std::vector<Sample> samples;
    std::vector<at::Tensor> gts;
    std::vector<std::array<int64_t, 2>> valid_shapes;
    for (std::size_t i = 0; i < plan.indices.size(); ++i) {
      RawSample raw = dataset->read(plan.indices[i]);
      if (!training) gts.push_back(raw.label.contiguous());  // the metric uses the stored label
      const Pipeline& steps = split ? *split->before : pipeline;
      samples.push_back(transform_sample(std::move(raw), steps, plan.indices[i], options.seed, plan.epochs[i], training));
      if (split) {
        valid_shapes.push_back(samples.back().size());
        Rng unused;  // Pads draw nothing
        split->pads->apply(samples.back(), unused);
      }
    }
    Batch b = training ? collate_train(samples, "train_pipeline", split.has_value()) : collate_eval(samples, std::move(gts));
    if (split) {
      b.normalize = split->normalize;
      b.valid_shapes = std::move(valid_shapes);
    }
    b.indices = plan.indices;
    b.position_after = plan.after;
    if (options.pin_memory) {
      b.images = b.images.pin_memory();
      if (b.labels.defined()) b.labels = b.labels.pin_memory();
    }
    return b;
  }

  void work() {
    while (true) {
      Plan plan;
      int64_t number;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stopping || (!exhausted && scheduled < consumed + options.prefetch); });
        if (stopping) return;
        auto p = draw();
        if (!p) {
          exhausted = true;
          changed.notify_all();
          continue;
        }
        plan = std::move(*p);
        number = scheduled++;
      }
      std::pair<std::optional<Batch>, std::exception_ptr> result;
      try {
        result.first = make(plan);
      } catch (...) {
        result.second = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        ready[number] = std::move(result);
      }
      changed.notify_all();
    }
  }

  void start() {
    for (int i = 0; i < std::max(1, options.workers); ++i) workers.emplace_back([this] { work(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    for (auto& t : workers) t.join();
  }
};

Loader::Loader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->start(); }
Loader::~Loader() = default;

std::unique_ptr<Loader> Loader::train(std::shared_ptr<ShardDataset> dataset, Pipeline pipeline, TrainSampler sampler,
                                      LoaderOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->dataset = std::move(dataset);
  impl->pipeline = std::move(pipeline);
  impl->options = options;
  if (options.normalize_on_device) impl->split = impl->pipeline.split_at_normalize();
  impl->sampler.emplace(std::move(sampler));
  return std::unique_ptr<Loader>(new Loader(std::move(impl)));
}

std::unique_ptr<Loader> Loader::eval(std::shared_ptr<ShardDataset> dataset, Pipeline pipeline,
                                     std::vector<std::size_t> indices, LoaderOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->dataset = std::move(dataset);
  impl->pipeline = std::move(pipeline);
  impl->options = options;
  impl->training = false;
  impl->eval_order = std::move(indices);
  return std::unique_ptr<Loader>(new Loader(std::move(impl)));
}

std::optional<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  auto& im = *impl_;
  im.changed.wait(lock, [&] { return im.ready.count(im.consumed) || (im.exhausted && im.consumed >= im.scheduled); });
  auto it = im.ready.find(im.consumed);
  if (it == im.ready.end()) return std::nullopt;  // evaluation finished
  auto result = std::move(it->second);
  im.ready.erase(it);
  ++im.consumed;
  lock.unlock();
  im.changed.notify_all();
  if (result.second) std::rethrow_exception(result.second);
  return std::move(result.first);
}

}  // namespace segtrain::data
