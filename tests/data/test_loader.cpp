// The loader: batches depend on the seed only, not on the number of workers; evaluation sees
// every sample once.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <numeric>

#include "data_test_env.h"
#include "segtrain/core/error.h"
#include "segtrain/data/loader.h"

using namespace segtrain;
using namespace segtrain::data;
using segtrain::testing::test_data;

namespace {

const char* kTrain = segtrain::testing::kTrainPipeline;
const char* kTest = R"(steps: [{type: MultiScaleFlipAug, img_scale: [64, 32], flip: false, transforms: [
  {type: Resize, keep_ratio: true}, {type: Normalize, mean: [0, 0, 0], std: [1, 1, 1]}]}])";

Pipeline make(const char* yaml) { return Pipeline(config::Config::from_string(yaml).at("steps")); }

std::vector<Batch> take(int workers, int count, uint64_t seed) {
  auto ds = std::make_shared<ShardDataset>(test_data() / "lz4" / "train");
  LoaderOptions o;
  o.batch_size = 2;
  o.workers = workers;
  o.seed = seed;
  auto loader = Loader::train(ds, make(kTrain), TrainSampler(ds->size(), 0, 1, seed), o);
  std::vector<Batch> out;
  for (int i = 0; i < count; ++i) out.push_back(*loader->next());
  return out;
}

}  // namespace

TEST(Loader, SameSeedSameBatchesWhateverTheWorkerCount) {
  auto one = take(1, 7, 5), three = take(3, 7, 5), other = take(2, 7, 6);
  ASSERT_EQ(one.size(), three.size());
  bool differs = false;
  for (std::size_t k = 0; k < one.size(); ++k) {
    EXPECT_EQ(one[k].images.sizes(), (std::vector<int64_t>{2, 3, 24, 24}));
    EXPECT_EQ(one[k].labels.scalar_type(), at::kLong);
    EXPECT_TRUE(one[k].images.is_contiguous());
    EXPECT_EQ(one[k].indices, three[k].indices) << k;
    EXPECT_TRUE(at::equal(one[k].images, three[k].images)) << k;
    EXPECT_TRUE(at::equal(one[k].labels, three[k].labels)) << k;
    differs = differs || !at::equal(one[k].images, other[k].images);
  }
  EXPECT_TRUE(differs) << "another seed gives other batches";
  // 9 samples, batch 2: batch 4 spans epochs 0 and 1 and the stream goes on.
  EXPECT_EQ(one[6].position_after.epoch, 1);
}

TEST(Loader, EvalCoversEverySampleOnceAndKeepsOriginalLabels) {
  auto ds = std::make_shared<ShardDataset>(test_data() / "gzip" / "train");
  std::vector<std::size_t> seen;
  for (int rank = 0; rank < 2; ++rank) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = 2;
    auto loader = Loader::eval(ds, make(kTest), eval_indices(ds->size(), rank, 2), o);
    while (auto b = loader->next()) {
      ASSERT_EQ(b->gt.size(), b->indices.size());
      for (std::size_t i = 0; i < b->indices.size(); ++i) {
        auto shape = ds->shape(b->indices[i]);
        EXPECT_EQ(b->gt[i].size(0), shape[0]);  // metric at the stored resolution
        // 40x48 fitted into (64, 32) keeping its ratio: factor min(64/48, 32/40) = 0.8 -> 32x38.
        EXPECT_EQ(b->img_shapes[i], (std::array<int64_t, 2>{32, 38}));
      }
      seen.insert(seen.end(), b->indices.begin(), b->indices.end());
    }
  }
  std::sort(seen.begin(), seen.end());
  std::vector<std::size_t> want(ds->size());
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(seen, want);
}

TEST(Loader, WorkerErrorsReachTheCaller) {
  auto ds = std::make_shared<ShardDataset>(test_data() / "bzip2" / "train");
  LoaderOptions o;
  o.batch_size = 1;
  auto loader = Loader::train(ds, make(kTrain), TrainSampler(ds->size(), 0, 1, 0), o);
  EXPECT_THROW(loader->next(), Error);
}
