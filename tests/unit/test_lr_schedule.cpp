// Learning-rate policies against MMCV's formulas written out by hand.
#include <cmath>

#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/engine/lr_schedule.h"

using namespace segtrain;
using segtrain::engine::LrSchedule;

namespace {
LrSchedule schedule(const std::string& yaml, int64_t max_iters) {
  return LrSchedule::parse(config::Config::from_string("lr_config: " + yaml, "t.yaml").at("lr_config"), max_iters);
}
}  // namespace

TEST(LrSchedule, PolyAsMmseg) {
  auto s = schedule("{policy: poly, power: 0.9, min_lr: 1.0e-4, by_epoch: false}", 40000);
  EXPECT_DOUBLE_EQ(s.lr(0.01, 0), 0.01);
  EXPECT_NEAR(s.lr(0.01, 200), (0.01 - 1e-4) * std::pow(1 - 200.0 / 40000, 0.9) + 1e-4, 1e-15);
  EXPECT_NEAR(s.lr(0.01, 40000), 1e-4, 1e-15);
}

TEST(LrSchedule, StepAndCosine) {
  auto steps = schedule("{policy: step, step: [10, 20], gamma: 0.5}", 30);
  EXPECT_DOUBLE_EQ(steps.lr(1.0, 9), 1.0);
  EXPECT_DOUBLE_EQ(steps.lr(1.0, 10), 0.5);
  EXPECT_DOUBLE_EQ(steps.lr(1.0, 25), 0.25);
  auto every = schedule("{policy: step, step: 7}", 30);
  EXPECT_DOUBLE_EQ(every.lr(1.0, 14), 0.01);
  auto cosine = schedule("{policy: CosineAnnealing, min_lr_ratio: 0.1}", 100);
  EXPECT_NEAR(cosine.lr(2.0, 50), 0.2 + (2.0 - 0.2) * 0.5, 1e-12);
  EXPECT_NEAR(cosine.lr(2.0, 100), 0.2, 1e-12);
}

TEST(LrSchedule, LinearAndConstantWarmup) {
  auto s = schedule("{policy: poly, power: 1.0, min_lr: 0.0, warmup: linear, warmup_iters: 100, warmup_ratio: 1.0e-6}", 1000);
  const double regular = 0.01 * (1 - 10.0 / 1000);
  EXPECT_NEAR(s.lr(0.01, 10), regular * (1 - (1 - 10.0 / 100) * (1 - 1e-6)), 1e-15);
  EXPECT_NEAR(s.lr(0.01, 100), 0.01 * (1 - 100.0 / 1000), 1e-15);
  auto c = schedule("{policy: poly, warmup: constant, warmup_iters: 5, warmup_ratio: 0.1}", 100);
  EXPECT_NEAR(c.lr(1.0, 4), 0.1 * (1 - 4.0 / 100), 1e-15);
}

TEST(LrSchedule, Errors) {
  EXPECT_SEGTRAIN_ERROR(schedule("{policy: ploy}", 10), ErrorKind::User, "unknown policy 'ploy' (did you mean 'poly'?)");
  EXPECT_SEGTRAIN_ERROR(schedule("{policy: step}", 10), ErrorKind::User, "needs 'step'");
  EXPECT_SEGTRAIN_ERROR(schedule("{policy: poly, by_epoch: true}", 10), ErrorKind::User, "by_epoch: false");
  EXPECT_SEGTRAIN_ERROR(schedule("{policy: poly, warmup: linear}", 10), ErrorKind::User, "missing key 'lr_config.warmup_iters'");
}
