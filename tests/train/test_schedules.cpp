// Learning-rate schedules against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "train/schedules.h"

namespace scenery::train {
namespace {

ScheduleOptions opts(ScheduleKind kind, ScheduleUnit unit, int64_t epochs) {
  ScheduleOptions o;
  o.kind = kind;
  o.unit = unit;
  o.epochs = epochs;
  return o;
}

TEST(Schedules, OfficialPlaces365StepDividesByTenEveryThirtyEpochs) {
  const LrSchedule s(opts(ScheduleKind::kStep, ScheduleUnit::kEpoch, 90), 7000);
  EXPECT_DOUBLE_EQ(s.factor(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(29, 29 * 7000 + 6999), 1.0);
  EXPECT_NEAR(s.factor(30, 0), 0.1, 1e-15);
  EXPECT_NEAR(s.factor(59, 0), 0.1, 1e-15);
  EXPECT_NEAR(s.factor(60, 0), 0.01, 1e-15);
  EXPECT_NEAR(s.factor(89, 0), 0.01, 1e-15);  // lr 0.001 in the last 30 epochs
}

TEST(Schedules, MultiStepCountsPassedMilestones) {
  auto o = opts(ScheduleKind::kMultiStep, ScheduleUnit::kEpoch, 10);
  o.milestones = {2, 5};
  o.gamma = 0.5;
  const LrSchedule s(o, 3);
  EXPECT_DOUBLE_EQ(s.factor(1, 0), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(2, 0), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(4, 0), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(5, 0), 0.25);
  // Per iteration the milestones move to epoch * steps_per_epoch = 6 and 15.
  o.unit = ScheduleUnit::kIteration;
  const LrSchedule it(o, 3);
  EXPECT_DOUBLE_EQ(it.factor(0, 5), 1.0);
  EXPECT_DOUBLE_EQ(it.factor(0, 6), 0.5);
  EXPECT_DOUBLE_EQ(it.factor(0, 14), 0.5);
  EXPECT_DOUBLE_EQ(it.factor(0, 15), 0.25);
}

TEST(Schedules, PolyPowerPointNinePerIteration) {
  // CSAIL ADE20K: lr = base * (1 - t/T)^0.9, T = 2 epochs * 50 steps = 100.
  auto o = opts(ScheduleKind::kPoly, ScheduleUnit::kIteration, 2);
  const LrSchedule s(o, 50);
  EXPECT_EQ(s.total_steps(), 100);
  EXPECT_DOUBLE_EQ(s.factor(0, 0), 1.0);
  EXPECT_NEAR(s.factor(0, 50), std::pow(0.5, 0.9), 1e-15);  // 0.535886731...
  EXPECT_NEAR(s.factor(0, 50), 0.5358867312681466, 1e-15);
  EXPECT_NEAR(s.factor(1, 90), std::pow(0.1, 0.9), 1e-15);  // 0.125892541...
  EXPECT_DOUBLE_EQ(s.factor(1, 100), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(1, 150), 0.0);  // clamped past the end
}

TEST(Schedules, CosineWithFloorAndWarmup) {
  auto o = opts(ScheduleKind::kCosine, ScheduleUnit::kIteration, 3);
  o.warmup_epochs = 1;  // 10 steps
  o.warmup_start_factor = 0.1;
  o.min_factor = 0.2;
  const LrSchedule s(o, 10);
  // Warm-up: 0.1 + 0.9 * t / 10.
  EXPECT_DOUBLE_EQ(s.factor(0, 0), 0.1);
  EXPECT_DOUBLE_EQ(s.factor(0, 5), 0.55);
  EXPECT_NEAR(s.factor(0, 9), 0.91, 1e-15);
  // Cosine over the 20 steps after it: 0.2 + 0.8 * (1 + cos(pi p)) / 2.
  EXPECT_DOUBLE_EQ(s.factor(1, 10), 1.0);
  EXPECT_NEAR(s.factor(1, 20), 0.6, 1e-15);                                          // p = 1/2
  EXPECT_NEAR(s.factor(2, 25), 0.2 + 0.8 * (1 + std::cos(M_PI * 0.75)) / 2, 1e-15);  // 0.3171573
  EXPECT_NEAR(s.factor(2, 30), 0.2, 1e-15);
}

TEST(Schedules, WarmupPerEpochRampsThenSteps) {
  auto o = opts(ScheduleKind::kStep, ScheduleUnit::kEpoch, 10);
  o.step_epochs = 4;
  o.warmup_epochs = 2;
  o.warmup_start_factor = 0.0;
  const LrSchedule s(o, 100);
  EXPECT_DOUBLE_EQ(s.factor(0, 99), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(1, 150), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(2, 0), 1.0);
  EXPECT_NEAR(s.factor(4, 0), 0.1, 1e-15);
  EXPECT_NEAR(s.factor(8, 0), 0.01, 1e-15);
}

TEST(Schedules, ConstantIsOne) {
  const LrSchedule s(opts(ScheduleKind::kConstant, ScheduleUnit::kIteration, 5), 3);
  EXPECT_DOUBLE_EQ(s.factor(4, 14), 1.0);
}

TEST(Schedules, BadValuesAreConfigErrors) {
  EXPECT_THROW(parse_schedule_kind("exp"), ConfigError);
  EXPECT_THROW(parse_schedule_unit("batch"), ConfigError);
  EXPECT_THROW(parse_milestones("30,x"), ConfigError);
  EXPECT_THROW(parse_milestones("60,30"), ConfigError);
  EXPECT_EQ(parse_milestones(" 30, 60 ,80"), (std::vector<double>{30, 60, 80}));
  auto o = opts(ScheduleKind::kStep, ScheduleUnit::kEpoch, 5);
  o.step_epochs = 0;
  EXPECT_THROW(LrSchedule(o, 1), ConfigError);
}

}  // namespace
}  // namespace scenery::train
