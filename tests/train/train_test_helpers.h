// Shared by the trainer tests: tiny synthetic datasets, configs built from
// argument lists, and readers of what a run leaves behind.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "data/synth.h"
#include "models/checkpoint.h"
#include "support/test_support.h"
#include "train/run_dir.h"
#include "train/train_options.h"
#include "train/trainer.h"

namespace scenery::train::testing {

using scenery::testing::TempDir;
namespace fs = std::filesystem;

inline data::SynthResult make_dataset(const std::string& layout, const fs::path& out, int classes,
                                      int per_class, int size = 64, uint64_t seed = 3) {
  data::SynthOptions o;
  o.layout = layout;
  o.out = out;
  o.classes = classes;
  o.per_class = per_class;
  o.seed = seed;
  o.size = size;
  return data::write_synthetic_dataset(o);
}

inline std::unique_ptr<Config> make_config(const std::vector<std::string>& args) {
  auto c = std::make_unique<Config>("scenery-train", "test");
  add_all_train_options(*c);
  c->parse(args);
  return c;
}

// A small, fast Places365-layout run: 4 classes, batches of 8, 48-px crops,
// ResNet-18, one torch thread (so runs are bitwise reproducible).
inline std::vector<std::string> tiny_args(const fs::path& root, const fs::path& run_dir,
                                          int classes = 4) {
  return {"--data.dataset",         "places365", "--data.root",         root.string(),
          "--data.batch_size",      "8",         "--data.workers",      "1",
          "--data.image_size",      "48",        "--data.resize",       "56",
          "--model.arch",           "resnet18",  "--model.num_classes", std::to_string(classes),
          "--train.epochs",         "2",         "--train.lr",          "0.02",
          "--train.threads",        "1",         "--train.run_dir",     run_dir.string(),
          "--train.lr_step_epochs", "1"};
}

// `args` with the "--key value" pairs of `more` replacing or added to its own
// (a key given twice on a command line is an error).
inline std::vector<std::string> with(std::vector<std::string> args,
                                     const std::vector<std::string>& more) {
  for (size_t i = 0; i + 1 < more.size(); i += 2) {
    auto it = std::find(args.begin(), args.end(), more[i]);
    if (it != args.end() && it + 1 != args.end()) {
      *(it + 1) = more[i + 1];
    } else {
      args.push_back(more[i]);
      args.push_back(more[i + 1]);
    }
  }
  return args;
}

// Cell `index` (0-based) of a metrics.csv line, as a number.
inline double csv_column(const std::string& line, size_t index) {
  std::stringstream in(line);
  std::string cell;
  for (size_t i = 0; i <= index; ++i)
    std::getline(in, cell, ',');
  return std::stod(cell);
}

inline TrainResult train(const std::vector<std::string>& args) {
  log::set_level(log::Level::kWarn);
  return run_training(*make_config(args));
}

inline std::vector<std::string> read_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

// metrics.csv without the timing columns (images_per_s, data_wait).
inline std::vector<std::string> metrics_without_timing(const fs::path& file) {
  const auto& columns = MetricsCsv::columns();
  const auto& timing = MetricsCsv::timing_columns();
  std::vector<std::string> out;
  for (const auto& line : read_lines(file)) {
    std::stringstream in(line);
    std::string cell, kept;
    for (size_t i = 0; std::getline(in, cell, ','); ++i) {
      if (i < columns.size() && std::find(timing.begin(), timing.end(), columns[i]) != timing.end())
        continue;
      kept += cell + ",";
    }
    out.push_back(kept);
  }
  return out;
}

inline void expect_same_weights(const models::StateDict& a, const models::StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) {
    const torch::Tensor* other = b.find(item.key());
    ASSERT_NE(other, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), *other)) << item.key();
  }
}

}  // namespace scenery::train::testing
