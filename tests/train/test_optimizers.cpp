// Parameter groups, weight-decay exclusion and learning rates per group.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/registry.h"
#include "train/optimizers.h"
#include "train_test_helpers.h"

namespace scenery::train {
namespace {

TEST(Optimizers, BodyAndHeadGroupsGetTheirOwnLearningRates) {
  auto model = models::create_model("resnet18", 5);
  OptimizerOptions o;
  o.lr = 0.1;
  o.body_lr_mult = 0.1;
  auto built = make_optimizer(model, o);
  ASSERT_EQ(built.groups.size(), 2u);
  EXPECT_EQ(built.groups[0].name, "body");
  EXPECT_EQ(built.groups[1].name, "head");
  EXPECT_EQ(built.groups[1].size, 2u);  // fc.weight, fc.bias
  EXPECT_EQ(built.groups[0].size + built.groups[1].size, model.named_parameters().size());
  apply_lr_factor(built, 0.5);
  EXPECT_DOUBLE_EQ(built.optimizer->param_groups()[0].options().get_lr(), 0.1 * 0.1 * 0.5);
  EXPECT_DOUBLE_EQ(built.optimizer->param_groups()[1].options().get_lr(), 0.05);
}

TEST(Optimizers, NoDecayGroupHoldsExactlyBiasesAndNormWeights) {
  auto model = models::create_model("resnet18", 5);
  OptimizerOptions o;
  o.no_decay_norm_bias = true;
  o.weight_decay = 1e-4;
  auto built = make_optimizer(model, o);
  ASSERT_EQ(built.groups.size(), 4u);
  size_t one_d = 0;
  for (const auto& p : model.named_parameters())
    one_d += p.value().dim() <= 1;
  EXPECT_EQ(built.groups[1].size + built.groups[3].size, one_d);
  auto& groups = built.optimizer->param_groups();
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::SGDOptions&>(groups[0].options()).weight_decay(),
                   1e-4);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::SGDOptions&>(groups[1].options()).weight_decay(), 0.0);
  for (const auto& p : groups[1].params())
    EXPECT_LE(p.dim(), 1);
}

TEST(Optimizers, AdamWAndNesterovAreBuilt) {
  auto model = models::create_model("resnet18", 3);
  OptimizerOptions o;
  o.name = "adamw";
  o.weight_decay = 0.05;
  auto adamw = make_optimizer(model, o);
  EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(adamw.optimizer.get()), nullptr);
  o.name = "sgd";
  o.nesterov = true;
  auto sgd = make_optimizer(model, o);
  EXPECT_TRUE(static_cast<torch::optim::SGDOptions&>(sgd.optimizer->param_groups()[0].options())
                  .nesterov());
}

TEST(Optimizers, UnknownOptimizerIsAConfigError) {
  EXPECT_THROW(optimizer_options_from_config(*testing::make_config({"--train.optimizer", "lamb"})),
               ConfigError);
  auto n = testing::make_config({"--train.nesterov", "true", "--train.momentum", "0"});
  EXPECT_THROW(optimizer_options_from_config(*n), ConfigError);
}

}  // namespace
}  // namespace scenery::train
