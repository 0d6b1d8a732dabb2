// Learning-rate schedules as pure functions of the training position, so a
// resumed run needs no scheduler state beyond (epoch, iteration): the factor
// for a step is recomputed, never accumulated.
//
// Every parameter group's lr = its base lr * factor(epoch, iteration), where
//   factor = warm-up ramp * main schedule, with t in the schedule's unit
//   (epoch index, or global optimizer step):
//   warm-up (t < W)  start + (1 - start) * t / W     (W = warm-up length; 1 after)
//   constant         1
//   step             gamma ^ floor(t / S)
//   multistep        gamma ^ (number of milestones m <= t)
//   cosine           min + (1 - min) * (1 + cos(pi * p)) / 2
//   poly             min + (1 - min) * (1 - p) ^ power
// with p = clamp((t - W) / (T - W), 0, 1): cosine and poly decay over the
// steps after the warm-up, T = the whole run. Epoch-denominated lengths
// (step size, milestones, warm-up) are converted to steps in iteration mode
// (epochs * steps_per_epoch, rounded), so both units decay at the same epochs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace scenery::train {

enum class ScheduleKind { kConstant, kStep, kMultiStep, kCosine, kPoly };
enum class ScheduleUnit { kEpoch, kIteration };

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::kStep;
  ScheduleUnit unit = ScheduleUnit::kEpoch;
  int64_t epochs = 90;
  double step_epochs = 30;
  std::vector<double> milestones{30, 60, 80};  // epochs
  double gamma = 0.1;
  double power = 0.9;
  double min_factor = 0.0;
  double warmup_epochs = 0.0;
  double warmup_start_factor = 0.1;
};

// Registers the schedule options of [train] (schedule, schedule_unit, lr_*,
// warmup_*), their defaults those above.
void add_schedule_options(Config& config);

// Throws ConfigError naming the option for an unknown kind/unit or a bad value.
ScheduleKind parse_schedule_kind(const std::string& name);
ScheduleUnit parse_schedule_unit(const std::string& name);
std::vector<double> parse_milestones(const std::string& text);  // "30,60,80"
ScheduleOptions schedule_options_from_config(const Config& config);

class LrSchedule {
 public:
  // `steps_per_epoch`: optimizer steps in one epoch (>= 1).
  LrSchedule(ScheduleOptions options, int64_t steps_per_epoch);

  // Factor for the optimizer step taken during `epoch` (0-based) as global
  // step `iteration` (0-based).
  double factor(int64_t epoch, int64_t iteration) const;

  const ScheduleOptions& options() const { return o_; }
  int64_t total_steps() const { return total_; }  // T, in the schedule's unit

 private:
  ScheduleOptions o_;
  int64_t total_ = 1, step_ = 1, warmup_ = 0;
  std::vector<int64_t> milestones_;
};

}  // namespace scenery::train
