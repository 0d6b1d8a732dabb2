// The [eval] section: protocol and outputs of an evaluation, read by
// scenery-eval (eval/tools) and, for validation, by the trainer.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "models/scene_model.h"

namespace scenery::eval {

// Registers the [eval] section.
void add_eval_options(Config& config);

// eval.branches: which branches of a two-branch network score.
const Choices<models::Branches>& branch_choices();
// eval.crop: center (resize + centre crop) or ten (ten-crop).
const std::vector<std::string>& crop_choices();

}  // namespace scenery::eval
