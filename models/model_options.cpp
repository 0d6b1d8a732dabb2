#include "models/model_options.h"

#include <fmt/format.h>

#include "models/registry.h"

namespace scenery::models {

void add_model_options(Config& c) {
  c.section("model", "[model] architecture and weights");
  // Listing the names costs nothing: the registry holds factories, not models.
  c.add_choice("model.arch", "resnet18", model_registry().names(),
               fmt::format("architecture: {}", fmt::join(model_registry().names(), ", ")));
  c.add<int>("model.num_classes", 365, "number of output classes", Bounds::at_least(1));
  c.add<std::string>(
      "model.weights", "",
      "checkpoint to initialise from (fine-tuning; see scripts/convert_places365_checkpoint.py)");
  c.add<double>("model.dropout", -1,
                "probability of every dropout layer; -1 = the architecture's own (0.5 for "
                "AlexNet/VGG classifiers, 0.1 in the parsing decoder)",
                Bounds::from_up_to_excluding(-1, 1));
}

}  // namespace scenery::models
