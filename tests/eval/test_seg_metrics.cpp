// mIoU / mAcc / aAcc against numpy's computation (metrics_reference.py).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "segtrain/eval/seg_metrics.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"

using namespace segtrain;

TEST(SegMetrics, MatchNumpy) {
  const char* dir = std::getenv("SEGTRAIN_METRICS_REFERENCE");
  ASSERT_NE(dir, nullptr) << "run through tests/run_with_fixture.sh";
  std::map<std::string, torch::Tensor> ref;
  for (auto& [k, v] : io::read_weights(std::filesystem::path(dir) / "metrics.pth")) ref[k] = v;
  eval::SegHistogram hist(6);
  for (int i = 0; i < 4; ++i) hist.add(ref["pred" + std::to_string(i)], ref["label" + std::to_string(i)]);
  auto m = hist.metrics();
  for (int c = 0; c < 6; ++c) {
    const double want_iou = ref["iou"][c].item<double>(), want_acc = ref["acc"][c].item<double>();
    if (std::isnan(want_iou)) EXPECT_TRUE(std::isnan(m.iou[c]));
    else EXPECT_NEAR(m.iou[c], want_iou, 1e-12) << c;
    if (std::isnan(want_acc)) EXPECT_TRUE(std::isnan(m.acc[c])) << c;
    else EXPECT_NEAR(m.acc[c], want_acc, 1e-12) << c;
  }
  EXPECT_TRUE(std::isnan(m.acc[5]));  // class 5 never labelled: its accuracy is undefined
  EXPECT_NEAR(m.aAcc, ref["summary"][0].item<double>(), 1e-12);
  EXPECT_NEAR(m.mIoU, ref["summary"][1].item<double>(), 1e-12);
  EXPECT_NEAR(m.mAcc, ref["summary"][2].item<double>(), 1e-12);
}
