#include "segtrain/eval/evaluator.h"

#include <torch/torch.h>

#include "segtrain/core/progress_bar.h"
#include "segtrain/data/device_batch.h"
#include "segtrain/data/sampler.h"
#include "segtrain/models/conv_module.h"

namespace segtrain::eval {
namespace {

// Class scores N x C x H x W for a batch: plain logits, or the averaged softmax of the
// augmented views (each view's output resized back to the batch's size first).
torch::Tensor predict(models::EncoderDecoder& model, const torch::Tensor& images, const std::optional<AugTest>& aug) {
  if (!aug) return model->inference(images);
  const bool align = model->decode_head->options().align_corners;
  const int64_t h = images.size(2), w = images.size(3);
  torch::Tensor sum;
  int views = 0;
  for (double ratio : aug->ratios) {
    const auto size = std::vector<int64_t>{std::max<int64_t>(1, std::llround(h * ratio)),
                                           std::max<int64_t>(1, std::llround(w * ratio))};
    const torch::Tensor scaled = ratio == 1.0 ? images : models::resize(images, size, align);
    for (bool mirrored : {false, true}) {
      if (mirrored && !aug->flip) continue;
      torch::Tensor logits = model->inference(mirrored ? scaled.flip({3}) : scaled);
      if (mirrored) logits = logits.flip({3});
      torch::Tensor probs = models::resize(logits, {h, w}, align).softmax(1);
      sum = sum.defined() ? sum + probs : probs;
      ++views;
    }
  }
  return sum / views;
}

}  // namespace

SegMetrics evaluate(models::EncoderDecoder& model, const EvalData& data, const dist::World& world,
                    dist::Communicator& comm, const c10::Device& device, const std::optional<AugTest>& aug,
                    const PredictionSink& sink) {
  SegHistogram hist(model->decode_head->options().num_classes);
  model->eval();
  {
    torch::NoGradGuard no_grad;
    auto indices = data::eval_indices(data.dataset->size(), world.rank(), world.size());
    auto loader = data::Loader::eval(data.dataset, data.pipeline, std::move(indices), data.options);
    ProgressBar bar(static_cast<long>(data.dataset->size()), world.is_main());
    data::ModelInput input(device);
    while (auto batch = loader->next()) {
      torch::Tensor scores = predict(model, input.images(*batch, batch->images.to(device), at::MemoryFormat::Contiguous), aug);
      for (std::size_t i = 0; i < batch->gt.size(); ++i) {
        const auto [h, w] = batch->img_shapes[i];
        const auto& gt = batch->gt[i];
        torch::Tensor one = scores[i].unsqueeze(0).narrow(2, 0, h).narrow(3, 0, w);
        one = models::resize(one, {gt.size(0), gt.size(1)}, model->decode_head->options().align_corners);
        const torch::Tensor prediction = one.argmax(1)[0].to(torch::kUInt8).cpu();
        hist.add(prediction, gt);
        if (sink) sink(batch->indices[i], prediction);
      }
      bar.update(static_cast<long>(batch->gt.size()) * world.size());
    }
    bar.finish();
  }
  hist.reduce(comm);  // collective
  return hist.metrics();
}

}  // namespace segtrain::eval
