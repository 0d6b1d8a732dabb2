#include "data/loader_bench.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "data_test_helpers.h"
#include "support/test_support.h"

namespace scenery::data {
namespace {
using scenery::testing::run_command;
using scenery::testing::TempDir;
using scenery::testing::tool_path;
using namespace scenery::data::testing;

TEST(LoaderBench, TimesTheRequestedBatchesAtEveryThreadCount) {
  TempDir dir;
  make_synth("places365", dir.path(), 3, 4, 1, 64);
  const Catalog c = open_catalog(spec("places365", dir.path()));  // 12 images
  LoaderOptions base;
  base.batch_size = 5;
  base.train.crop.size = 32;
  LoaderBenchOptions o;
  o.batches = 4;  // more than one epoch of 3 batches: epochs repeat
  o.threads = {1, 2};
  const auto rows = bench_loader(c, base, o);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.images, 5 + 5 + 2 + 5);  // epoch 0: 5 5 2, epoch 1: 5
    EXPECT_GT(r.images_per_s(), 0);
    EXPECT_GT(r.cpu_ms_per_image(), 0);
    EXPECT_GT(r.decode_images_per_s, 0);
  }
  EXPECT_EQ(rows[1].threads, 2);
  const std::string text = format_loader_bench(c, base, rows);
  EXPECT_CONTAINS(text, "train pipeline");
  EXPECT_CONTAINS(text, "of decode");
  o.threads = {0};
  EXPECT_THROW(bench_loader(c, base, o), ConfigError);
}

// A full training recipe is accepted as it is: only its [data] section is read.
TEST(LoaderBench, TheCommandReadsATrainingRecipeUnchanged) {
  TempDir dir;
  make_synth("places365", dir.path(), 3, 4, 1, 80);
  const auto r =
      run_command(tool_path("scenery-data") + " bench --config " + std::string(SCENERY_SOURCE_DIR) +
                  "/configs/places365_resnet18.cfg --data.root " + dir.path().string() +
                  " --data.image_size 64 --data.batch_size 4 --batches 2 --threads 1,2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "threads");
  EXPECT_CONTAINS(r.output, "64 px, batch 4");
  const auto bad = run_command(tool_path("scenery-data") + " bench --data.root " +
                               dir.path().string() + " --threads 1,x");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_CONTAINS(bad.output, "--threads");
}

}  // namespace
}  // namespace scenery::data
