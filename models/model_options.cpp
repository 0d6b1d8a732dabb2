#include "models/model_options.h"

namespace scenery::models {

void add_model_options(Config& c) {
  c.add<std::string>("model.arch", "resnet18", "architecture name (see the model registry)");
  c.add<int>("model.num_classes", 365, "number of output classes");
  c.add<std::string>("model.weights", "", "checkpoint to initialise from (fine-tuning)");
}

}  // namespace scenery::models
