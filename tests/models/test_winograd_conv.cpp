// The Winograd training convolutions: the same convolution as LibTorch's (to
// float rounding, forward and both gradients), reproducible bit for bit, taken
// only where the rule says, and never in evaluation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/models_test_util.h"
#include "models/registry.h"
#include "models/winograd_conv.h"

namespace scenery::models {
namespace {

namespace F = torch::nn::functional;

// Switches the path on for one test and back off after.
class WinogradOn {
 public:
  WinogradOn() { set_winograd_training(true); }
  ~WinogradOn() { set_winograd_training(false); }
};

#define SKIP_WITHOUT_WINOGRAD()                                                \
  if (!winograd_available()) {                                                 \
    GTEST_SKIP() << "no oneDNN Winograd kernels in this build or on this CPU " \
                    "(they need AVX-512)";                                     \
  }

using testutil::conv_grads;

// Largest difference relative to the reference's largest magnitude.
double winograd_relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

struct WinogradGeometry {
  int64_t n, c, h, w, o, padding;
  bool channels_last;
};

class WinogradMatchesDirect : public ::testing::TestWithParam<WinogradGeometry> {};

TEST_P(WinogradMatchesDirect, ForwardAndBothGradients) {
  SKIP_WITHOUT_WINOGRAD();
  const WinogradGeometry g = GetParam();
  torch::manual_seed(1);
  const auto format =
      g.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  const auto input = torch::randn({g.n, g.c, g.h, g.w}).contiguous(format);
  const auto weight = (torch::randn({g.o, g.c, 3, 3}) * 0.1).contiguous(format);
  const int64_t oh = g.h + 2 * g.padding - 2, ow = g.w + 2 * g.padding - 2;
  const auto probe = torch::randn({g.n, g.o, oh, ow});
  const auto direct = conv_grads(
      [&](auto x, auto w) { return F::conv2d(x, w, F::Conv2dFuncOptions().padding(g.padding)); },
      input, weight, probe);
  const auto wino =
      conv_grads([&](auto x, auto w) { return winograd_conv2d(x, w, g.padding, g.padding); }, input,
                 weight, probe);
  ASSERT_EQ(wino.output.sizes(), direct.output.sizes());
  EXPECT_EQ(wino.output.is_contiguous(format), true) << "keeps the input's memory format";
  // Winograd F(4x4, 3x3) in float32 loses a few bits to its transforms; a
  // wrong tap, padding or layout would be off by O(1).
  EXPECT_LT(winograd_relative_error(wino.output, direct.output), 1e-5);
  EXPECT_LT(winograd_relative_error(wino.input, direct.input), 1e-5);
  EXPECT_LT(winograd_relative_error(wino.weight, direct.weight), 1e-5);
  EXPECT_TRUE(wino.weight.is_contiguous(format)) << "the gradient has the parameter's layout";
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, WinogradMatchesDirect,
    ::testing::Values(WinogradGeometry{2, 16, 8, 8, 16, 1, true},     // one channel block
                      WinogradGeometry{4, 64, 28, 28, 64, 1, true},   // ResNet-18 layer1 at 112 px
                      WinogradGeometry{2, 32, 13, 9, 48, 1, true},    // odd sizes: partial tiles
                      WinogradGeometry{2, 32, 12, 12, 16, 1, false},  // NCHW in, NCHW out
                      WinogradGeometry{2, 16, 11, 11, 32, 0, true},   // unpadded
                      WinogradGeometry{4, 128, 8, 8, 128, 1, false},
                      WinogradGeometry{4, 64, 16, 16, 64, 1, false}),
    [](const auto& info) {
      const WinogradGeometry& g = info.param;
      return std::to_string(g.c) + "x" + std::to_string(g.h) + "x" + std::to_string(g.w) + "to" +
             std::to_string(g.o) + "pad" + std::to_string(g.padding) +
             (g.channels_last ? "ChannelsLast" : "Nchw");
    });

TEST(WinogradConv, TwoThreadRunsAreBitwiseEqual) {
  SKIP_WITHOUT_WINOGRAD();
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  torch::manual_seed(2);
  const auto input = torch::randn({8, 64, 28, 28}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto weight = torch::randn({64, 64, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto probe = torch::randn({8, 64, 28, 28});
  auto conv = [](auto x, auto w) { return winograd_conv2d(x, w, 1, 1); };
  const auto a = conv_grads(conv, input, weight, probe);
  const auto b = conv_grads(conv, input, weight, probe);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a.output, b.output));
  EXPECT_TRUE(torch::equal(a.input, b.input));
  EXPECT_TRUE(torch::equal(a.weight, b.weight));
}

TEST(WinogradConv, RuleTakesOnlyTrainingShapesItPays) {
  SKIP_WITHOUT_WINOGRAD();
  WinogradOn on;
  const auto w = torch::randn({64, 64, 3, 3}).requires_grad_(true);
  const auto x = torch::randn({2, 64, 28, 28});
  EXPECT_TRUE(winograd_applies(x, w, 1, 1));
  EXPECT_FALSE(winograd_applies(torch::randn({2, 64, 6, 6}), w, 1, 1)) << "6x6 output";
  EXPECT_FALSE(winograd_applies(torch::randn({2, 64, 8, 8}), w, 0, 0)) << "6x6 output";
  EXPECT_FALSE(winograd_applies(torch::randn({2, 8, 28, 28}), torch::randn({64, 8, 3, 3}), 1, 1))
      << "8 input channels";
  EXPECT_FALSE(winograd_applies(x, torch::randn({24, 64, 3, 3}).requires_grad_(true), 1, 1))
      << "24 output channels";
  EXPECT_FALSE(winograd_applies(x.to(torch::kDouble), w.to(torch::kDouble), 1, 1)) << "double";
  EXPECT_FALSE(winograd_applies(x, w.detach(), 1, 1)) << "frozen weight";
  {
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(winograd_applies(x, w, 1, 1)) << "grad mode off (evaluation)";
  }
  set_winograd_training(false);
  EXPECT_FALSE(winograd_applies(x, w, 1, 1)) << "switched off";
}

// The module: Winograd in training where the rule says, LibTorch's direct
// convolution (bit for bit) everywhere else.
TEST(WinogradConv, FastConv2dIsDirectOutsideTraining) {
  SKIP_WITHOUT_WINOGRAD();
  torch::manual_seed(3);
  FastConv2d fast(torch::nn::Conv2dOptions(32, 32, 3).padding(1).bias(false));
  torch::nn::Conv2d plain(torch::nn::Conv2dOptions(32, 32, 3).padding(1).bias(false));
  {
    torch::NoGradGuard no_grad;
    plain->weight.copy_(fast->weight);
  }
  const auto x = torch::randn({2, 32, 16, 16});
  WinogradOn on;
  fast->train();
  const auto training = fast->forward(x);
  EXPECT_FALSE(torch::equal(training, plain->forward(x))) << "training took the Winograd path";
  EXPECT_LT(winograd_relative_error(training.detach(), plain->forward(x).detach()), 1e-5);
  fast->eval();
  EXPECT_TRUE(torch::equal(fast->forward(x), plain->forward(x))) << "eval mode is direct";
  fast->train();
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(fast->forward(x), plain->forward(x))) << "no-grad is direct";
  }
  FastConv2d strided(torch::nn::Conv2dOptions(32, 32, 3).stride(2).padding(1).bias(false));
  torch::nn::Conv2d strided_plain(
      torch::nn::Conv2dOptions(32, 32, 3).stride(2).padding(1).bias(false));
  {
    torch::NoGradGuard no_grad;
    strided_plain->weight.copy_(strided->weight);
  }
  EXPECT_TRUE(torch::equal(strided->forward(x), strided_plain->forward(x))) << "stride 2";
}

// Through a whole network only the loss is compared: it is a continuous
// function of the convolutions, so float rounding stays float rounding. The
// gradients are not: a pre-activation within rounding of zero flips its ReLU
// and moves a whole channel's gradient by percents (switching LibTorch's own
// direct convolution from NCHW to channels-last does the same), which is why
// gradients are checked convolution by convolution above.
TEST(WinogradConv, ResNetTrainingLossAgreesWithDirect) {
  SKIP_WITHOUT_WINOGRAD();
  torch::manual_seed(4);
  auto a = create_model("resnet18", 4);
  auto b = create_model("resnet18", 4);
  testutil::copy_parameters(a, b);
  const auto x = torch::randn({4, 3, 64, 64});
  const auto y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  auto loss_and_grad = [&](SceneModel& m) {
    m.train();
    auto loss = F::cross_entropy(m.forward(x).logits, y);
    loss.backward();
    return std::make_pair(loss.item<double>(),
                          m.named_parameters()["layer1.0.conv1.weight"].grad().clone());
  };
  const auto [direct_loss, direct_grad] = loss_and_grad(a);
  WinogradOn on;
  const auto [wino_loss, wino_grad] = loss_and_grad(b);
  EXPECT_NEAR(wino_loss, direct_loss, 1e-5 * std::abs(direct_loss));
  EXPECT_FALSE(torch::equal(wino_grad, direct_grad)) << "layer1 took the Winograd path";
}

TEST(WinogradConv, BadShapesAreNamed) {
  try {
    winograd_conv2d(torch::randn({1, 16, 8, 8}), torch::randn({16, 8, 3, 3}), 1, 1);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("1x16x8x8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16x8x3x3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scenery::models
