#include "train/schedules.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace scenery::train {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::kConstant;
  if (name == "step") return ScheduleKind::kStep;
  if (name == "multistep") return ScheduleKind::kMultiStep;
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "poly") return ScheduleKind::kPoly;
  throw ConfigError(fmt::format(
      "train.schedule: unknown schedule '{}' (expected constant, step, multistep, cosine or poly)",
      name));
}

ScheduleUnit parse_schedule_unit(const std::string& name) {
  if (name == "epoch") return ScheduleUnit::kEpoch;
  if (name == "iteration") return ScheduleUnit::kIteration;
  throw ConfigError(
      fmt::format("train.schedule_unit: unknown unit '{}' (expected epoch or iteration)", name));
}

std::vector<double> parse_milestones(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    try {
      size_t used = 0;
      const double v = std::stod(item.substr(first), &used);
      if (item.find_first_not_of(" \t", first + used) != std::string::npos || v < 0) throw 0;
      out.push_back(v);
    } catch (...) {
      throw ConfigError(fmt::format(
          "train.lr_milestones: '{}' is not a non-negative number (expected e.g. 30,60,80)", item));
    }
  }
  if (!std::is_sorted(out.begin(), out.end())) {
    throw ConfigError(fmt::format("train.lr_milestones: '{}' must be increasing", text));
  }
  return out;
}

ScheduleOptions schedule_options_from_config(const Config& c) {
  ScheduleOptions o;
  o.kind = parse_schedule_kind(c.get<std::string>("train.schedule"));
  o.unit = parse_schedule_unit(c.get<std::string>("train.schedule_unit"));
  o.epochs = c.get<int>("train.epochs");
  o.step_epochs = c.get<double>("train.lr_step_epochs");
  o.milestones = parse_milestones(c.get<std::string>("train.lr_milestones"));
  o.gamma = c.get<double>("train.lr_gamma");
  o.power = c.get<double>("train.lr_power");
  o.min_factor = c.get<double>("train.lr_min_factor");
  o.warmup_epochs = c.get<double>("train.warmup_epochs");
  o.warmup_start_factor = c.get<double>("train.warmup_start_factor");
  return o;
}

LrSchedule::LrSchedule(ScheduleOptions options, int64_t steps_per_epoch) : o_(std::move(options)) {
  if (steps_per_epoch < 1) throw TrainError("an epoch must hold at least one optimizer step");
  if (o_.kind == ScheduleKind::kStep && o_.step_epochs <= 0) {
    throw ConfigError(fmt::format("train.lr_step_epochs must be > 0, got {}", o_.step_epochs));
  }
  if (o_.warmup_epochs < 0) {
    throw ConfigError(fmt::format("train.warmup_epochs must be >= 0, got {}", o_.warmup_epochs));
  }
  if (o_.min_factor < 0 || o_.min_factor > 1) {
    throw ConfigError(fmt::format("train.lr_min_factor must be in [0, 1], got {}", o_.min_factor));
  }
  const double per = o_.unit == ScheduleUnit::kIteration ? static_cast<double>(steps_per_epoch) : 1;
  const auto to_steps = [&](double epochs) {
    return static_cast<int64_t>(std::llround(epochs * per));
  };
  total_ = std::max<int64_t>(1, to_steps(static_cast<double>(o_.epochs)));
  step_ = std::max<int64_t>(1, to_steps(o_.step_epochs));
  warmup_ = to_steps(o_.warmup_epochs);
  for (double m : o_.milestones)
    milestones_.push_back(to_steps(m));
}

double LrSchedule::factor(int64_t epoch, int64_t iteration) const {
  const int64_t t = o_.unit == ScheduleUnit::kIteration ? iteration : epoch;
  double ramp = 1.0;
  if (t < warmup_) {
    ramp = o_.warmup_start_factor +
           (1.0 - o_.warmup_start_factor) * static_cast<double>(t) / static_cast<double>(warmup_);
  }
  const double span = static_cast<double>(std::max<int64_t>(1, total_ - warmup_));
  const double p = std::clamp(static_cast<double>(t - warmup_) / span, 0.0, 1.0);
  double main = 1.0;
  switch (o_.kind) {
    case ScheduleKind::kConstant:
      break;
    case ScheduleKind::kStep:
      main = std::pow(o_.gamma, static_cast<double>(t / step_));
      break;
    case ScheduleKind::kMultiStep: {
      const auto passed =
          std::count_if(milestones_.begin(), milestones_.end(), [&](int64_t m) { return m <= t; });
      main = std::pow(o_.gamma, static_cast<double>(passed));
      break;
    }
    case ScheduleKind::kCosine:
      main = o_.min_factor + (1.0 - o_.min_factor) * (1.0 + std::cos(M_PI * p)) / 2.0;
      break;
    case ScheduleKind::kPoly:
      main = o_.min_factor + (1.0 - o_.min_factor) * std::pow(1.0 - p, o_.power);
      break;
  }
  return ramp * main;
}

}  // namespace scenery::train
