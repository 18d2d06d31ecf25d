// CrossEntropyLoss and accuracy against values worked out by hand on a tiny tensor.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "segtrain/models/losses/cross_entropy_loss.h"

using segtrain::models::CrossEntropyLoss;

namespace {

// 1 image, 3 classes, 2x2 pixels; labels: 0, 2, 255 (ignored), 1.
const double kLogits[3][4] = {{2.0, 0.5, 1.0, -1.0}, {0.0, 0.5, 3.0, 2.0}, {-1.0, 1.5, 0.0, 0.0}};
const int kLabels[4] = {0, 2, 255, 1};

torch::Tensor logits() {
  torch::Tensor t = torch::empty({1, 3, 2, 2}, torch::kDouble);
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 4; ++p) t[0][c][p / 2][p % 2] = kLogits[c][p];
  return t;
}
torch::Tensor labels() { return torch::tensor({kLabels[0], kLabels[1], kLabels[2], kLabels[3]}, torch::kLong).view({1, 2, 2}); }

// -log softmax(pixel)[label], by hand.
double nll(int p) {
  double z = 0;
  for (int c = 0; c < 3; ++c) z += std::exp(kLogits[c][p]);
  return -(kLogits[kLabels[p]][p] - std::log(z));
}

}  // namespace

TEST(CrossEntropyLoss, MeanOverAllPixelsByDefault) {
  CrossEntropyLoss loss;  // avg_non_ignore false: MMSeg divides by all 4 pixels
  const double want = (nll(0) + nll(1) + nll(3)) / 4;
  EXPECT_NEAR(loss(logits(), labels()).item<double>(), want, 1e-12);
}

TEST(CrossEntropyLoss, AvgNonIgnoreAndLossWeight) {
  CrossEntropyLoss loss;
  loss.avg_non_ignore = true;
  loss.loss_weight = 0.4;
  EXPECT_NEAR(loss(logits(), labels()).item<double>(), 0.4 * (nll(0) + nll(1) + nll(3)) / 3, 1e-12);
}

TEST(CrossEntropyLoss, ClassWeightsScaleEachPixelsLoss) {
  CrossEntropyLoss loss;
  loss.class_weight = {0.5, 2.0, 1.5};
  const double weighted = 0.5 * nll(0) + 1.5 * nll(1) + 2.0 * nll(3);
  EXPECT_NEAR(loss(logits(), labels()).item<double>(), weighted / 4, 1e-12);  // MMSeg: still / pixel count
  loss.avg_non_ignore = true;
  EXPECT_NEAR(loss(logits(), labels()).item<double>(), weighted / 3, 1e-12);
}

TEST(Accuracy, PercentOfNonIgnoredPixels) {
  // argmax per pixel: 0, 2, 1, 1 -> pixel 0 right, 1 right, 2 ignored, 3 right.
  EXPECT_NEAR(segtrain::models::pixel_accuracy(logits(), labels()).item<double>(), 100.0, 1e-9);
  auto wrong = labels().clone();
  wrong[0][1][1] = 2;
  EXPECT_NEAR(segtrain::models::pixel_accuracy(logits(), wrong).item<double>(), 200.0 / 3, 1e-4);
}
