#pragma once
// One evaluation pass, shared by the training EvalHook and segtest. Every rank predicts its share
// of the split (data::eval_indices: each sample exactly once across ranks), at the stored label
// resolution; the class histograms are summed over ranks (collective) into MMSeg's metrics.
// Rank 0 shows a progress bar (counting every rank's samples, as MMSeg's multi_gpu_test does).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "segtrain/data/loader.h"
#include "segtrain/data/pipeline.h"
#include "segtrain/data/shard_dataset.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"
#include "segtrain/eval/seg_metrics.h"
#include "segtrain/models/segmentor.h"

namespace segtrain::eval {

// MMSeg's --aug-test: the softmax of every scale (and its mirror image) averaged.
struct AugTest {
  std::vector<double> ratios{0.5, 0.75, 1.0, 1.25, 1.5, 1.75};
  bool flip = true;
};

struct EvalData {
  std::shared_ptr<data::ShardDataset> dataset;
  data::Pipeline pipeline;
  data::LoaderOptions options;
};

// Called on the rank that predicted it, with the sample's dataset index and its label map
// (H x W uint8 on the CPU, at the stored label size).
using PredictionSink = std::function<void(std::size_t index, const at::Tensor& prediction)>;

SegMetrics evaluate(models::EncoderDecoder& model, const EvalData& data, const dist::World& world,
                    dist::Communicator& comm, const c10::Device& device, const std::optional<AugTest>& aug = {},
                    const PredictionSink& sink = {});

}  // namespace segtrain::eval
