#include "train/schedules.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace scenery::train {

namespace {

const Choices<ScheduleKind>& schedule_kinds() {
  static const Choices<ScheduleKind> choices{{"constant", ScheduleKind::kConstant},
                                             {"step", ScheduleKind::kStep},
                                             {"multistep", ScheduleKind::kMultiStep},
                                             {"cosine", ScheduleKind::kCosine},
                                             {"poly", ScheduleKind::kPoly}};
  return choices;
}

const Choices<ScheduleUnit>& schedule_units() {
  static const Choices<ScheduleUnit> choices{{"epoch", ScheduleUnit::kEpoch},
                                             {"iteration", ScheduleUnit::kIteration}};
  return choices;
}

ListRule milestone_rule() {
  return ListRule::any_length(Bounds::at_least(0), ListOrder::kNonDecreasing);
}

}  // namespace

void add_schedule_options(Config& c) {
  const ScheduleOptions d;
  c.add_choice("train.schedule", schedule_kinds().name_of(d.kind), schedule_kinds().names(),
               "lr schedule: constant, step, multistep, cosine, poly");
  c.add_choice("train.schedule_unit", schedule_units().name_of(d.unit), schedule_units().names(),
               "when the lr changes: epoch (once per epoch) or iteration (every step)");
  c.add<double>("train.lr_step_epochs", d.step_epochs,
                "step: multiply the lr by lr_gamma every N epochs", Bounds::above(0));
  c.add_list<double>(
      "train.lr_milestones", fmt::format("{}", fmt::join(d.milestones, ",")),
      "multistep: epochs (comma-separated) at which the lr is multiplied by lr_gamma",
      milestone_rule());
  c.add<double>("train.lr_gamma", d.gamma, "step/multistep: decay factor", Bounds::at_least(0));
  c.add<double>("train.lr_power", d.power, "poly: lr * (1 - progress)^power", Bounds::at_least(0));
  c.add<double>("train.lr_min_factor", d.min_factor,
                "cosine/poly: floor, as a fraction of the base lr", Bounds::within(0, 1));
  c.add<double>("train.warmup_epochs", d.warmup_epochs,
                "linear warm-up length in epochs (fractions allowed)", Bounds::at_least(0));
  c.add<double>("train.warmup_start_factor", d.warmup_start_factor,
                "warm-up starts at lr * this factor", Bounds::at_least(0));
}

ScheduleKind parse_schedule_kind(const std::string& name) {
  return schedule_kinds().at("train.schedule", name);
}

ScheduleUnit parse_schedule_unit(const std::string& name) {
  return schedule_units().at("train.schedule_unit", name);
}

std::vector<double> parse_milestones(const std::string& text) {
  return parse_list<double>("train.lr_milestones", text, milestone_rule());
}

ScheduleOptions schedule_options_from_config(const Config& c) {
  ScheduleOptions o;
  o.kind = parse_schedule_kind(c.get<std::string>("train.schedule"));
  o.unit = parse_schedule_unit(c.get<std::string>("train.schedule_unit"));
  o.epochs = c.get<int>("train.epochs");
  o.step_epochs = c.get<double>("train.lr_step_epochs");
  o.milestones = c.get_list<double>("train.lr_milestones");
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
