#include "train/weight_ema.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "train_test_helpers.h"

namespace scenery::train::testing {
namespace {

// timm's ModelEmaV2 update, written out with torch ops: e = d e + (1 - d) v
// for floating tensors, a copy for integer ones.
TEST(WeightEma, UpdateIsTimmsAverageAndSwapExchangesInPlace) {
  torch::manual_seed(0);
  auto model = models::create_model("resnet18", 3);
  const auto w0 = model.state_dict();
  std::map<std::string, torch::Tensor> start;
  for (const auto& item : w0)
    start[item.key()] = item.value().detach().clone();
  WeightEma ema(model, 0.9);
  {
    torch::NoGradGuard no_grad;
    for (auto& item : model.state_dict()) {
      if (item.value().is_floating_point())
        item.value().add_(torch::randn_like(item.value()));
      else
        item.value().add_(5);
    }
  }
  ema.update(model);
  const auto average = ema.state();
  for (const auto& item : model.state_dict()) {
    const auto& v = item.value();
    const auto expected = v.is_floating_point() ? 0.9 * start[item.key()] + 0.1 * v : v;
    EXPECT_TRUE(torch::allclose(average[item.key()], expected, 1e-6, 1e-6)) << item.key();
  }
  std::map<std::string, torch::Tensor> trained;
  for (const auto& item : model.state_dict())
    trained[item.key()] = item.value().detach().clone();
  ema.swap(model);
  for (const auto& item : model.state_dict())
    EXPECT_TRUE(torch::equal(item.value(), average[item.key()])) << item.key();
  ema.swap(model);
  for (const auto& item : model.state_dict())
    EXPECT_TRUE(torch::equal(item.value(), trained[item.key()])) << item.key();

  WeightEma other(model, 0.5);
  other.load(average, "test");
  EXPECT_TRUE(torch::equal(other.state()["fc.weight"], average["fc.weight"]));
  models::StateDict wrong;
  wrong.insert("fc.weight", torch::zeros({1}));
  EXPECT_THROW(other.load(wrong, "test"), CheckpointError);
  EXPECT_THROW(WeightEma(model, 1.0), ConfigError);
}

// With train.ema_decay the run validates the average, writes ema.ckpt (a
// checkpoint like best.ckpt) and keeps the average in last.ckpt: a resumed
// run ends with the same average as an uninterrupted one.
TEST(WeightEma, TrainerValidatesWritesEmaCkptAndResumesExactly) {
  torch::set_num_threads(1);
  TempDir dir;
  make_dataset("places365", dir / "data", 4, 8, 64);
  const std::vector<std::string> ema = {"--train.ema_decay", "0.8"};
  const auto a = train(with(tiny_args(dir / "data", dir / "a"), ema));
  ASSERT_FALSE(a.interrupted);
  EXPECT_TRUE(a.last_ema_metrics.count("top1"));
  ASSERT_TRUE(fs::exists(dir / "a" / "ema.ckpt"));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto b = train(with(tiny_args(dir / "data", dir / "b"),
                              {"--train.ema_decay", "0.8", "--train.stop_after_iterations", "3"}));
    if (!b.interrupted) break;
  }
  const auto ea = models::read_checkpoint(dir / "a" / "ema.ckpt");
  const auto eb = models::read_checkpoint(dir / "b" / "ema.ckpt");
  expect_same_weights(ea.state_dict, eb.state_dict);
  const auto last = models::read_checkpoint(dir / "a" / "last.ckpt");
  ASSERT_TRUE(last.training);
  EXPECT_FALSE(last.training->ema_state.is_empty());
  expect_same_weights(last.training->ema_state, ea.state_dict);
  EXPECT_FALSE(torch::equal(last.state_dict["fc.weight"], ea.state_dict["fc.weight"]));
  // ema.ckpt loads strictly into the architecture it names.
  auto fresh = models::create_model(ea.meta.arch, ea.meta.num_classes);
  models::load_state_dict(fresh, ea.state_dict, models::LoadMode::kStrict, "ema.ckpt");
  EXPECT_EQ(metrics_without_timing(dir / "a" / "metrics.csv"),
            metrics_without_timing(dir / "b" / "metrics.csv"));
}

}  // namespace
}  // namespace scenery::train::testing
