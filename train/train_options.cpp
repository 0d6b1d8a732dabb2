#include "train/train_options.h"

namespace scenery::train {

void add_train_options(Config& c) {
  c.add<std::string>("train.run_dir", "runs/default",
                     "run directory: config, checkpoints, metrics.csv, log; reused to resume");
  c.add<int>("train.epochs", 90, "number of epochs");
  c.add<double>("train.lr", 0.1, "base learning rate");
  c.add<double>("train.momentum", 0.9, "SGD momentum");
  c.add<double>("train.weight_decay", 1e-4, "weight decay");
  c.add<int>("dist.world_size", 1, "number of processes taking part");
  c.add<int>("dist.rank", 0, "rank of this process, 0..world_size-1");
}

}  // namespace scenery::train
