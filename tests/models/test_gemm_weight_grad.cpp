// The GEMM weight-gradient convolutions: output and input gradient bit for bit
// LibTorch's, the weight gradient the convolution's (checked against a
// float64 reference), in the parameter's layout, taken only where the rule
// says and never in evaluation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/gemm_weight_grad.h"
#include "models/models_test_util.h"
#include "models/winograd_conv.h"

namespace scenery::models {
namespace {

namespace F = torch::nn::functional;

class GemmOn {
 public:
  GemmOn() { set_gemm_weight_grad_training(true); }
  ~GemmOn() { set_gemm_weight_grad_training(false); }
};

#define SKIP_WITHOUT_ONEDNN() \
  if (!gemm_weight_grad_available()) GTEST_SKIP() << "this build has no oneDNN"

using testutil::conv_grads;

double gemm_relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got.to(torch::kDouble) - want).abs().max().item<double>() /
         want.abs().max().item<double>();
}

struct GemmGeometry {
  int64_t n, c, h, w, o, stride, padding;
};

class GemmWeightGradMatchesDirect : public ::testing::TestWithParam<GemmGeometry> {};

TEST_P(GemmWeightGradMatchesDirect, OutputAndInputGradientExactWeightGradientToRounding) {
  SKIP_WITHOUT_ONEDNN();
  const GemmGeometry g = GetParam();
  torch::manual_seed(1);
  const auto cl = torch::MemoryFormat::ChannelsLast;
  const auto input = torch::randn({g.n, g.c, g.h, g.w}).contiguous(cl);
  const auto weight = (torch::randn({g.o, g.c, 3, 3}) * 0.1).contiguous(cl);
  const int64_t oh = (g.h + 2 * g.padding - 3) / g.stride + 1;
  const int64_t ow = (g.w + 2 * g.padding - 3) / g.stride + 1;
  const auto probe = torch::randn({g.n, g.o, oh, ow});
  auto direct_conv = [&](auto x, auto w) {
    return F::conv2d(x, w, F::Conv2dFuncOptions().stride(g.stride).padding(g.padding));
  };
  const auto direct = conv_grads(direct_conv, input, weight, probe);
  const auto exact =
      conv_grads(direct_conv, input.to(torch::kDouble), weight.to(torch::kDouble), probe);
  const auto gemm = conv_grads(
      [&](auto x, auto w) { return conv2d_gemm_weight_grad(x, w, g.stride, g.padding, g.padding); },
      input, weight, probe);
  ASSERT_EQ(gemm.output.sizes(), direct.output.sizes());
  EXPECT_TRUE(torch::equal(gemm.output, direct.output)) << "LibTorch's own forward";
  EXPECT_TRUE(torch::equal(gemm.input, direct.input)) << "LibTorch's own input gradient";
  // A wrong tap, stride, padding or layout would be off by O(1); float32
  // summation over N * output pixels stays near 1e-6.
  EXPECT_LT(gemm_relative_error(gemm.weight, exact.weight), 1e-5);
  EXPECT_LT(gemm_relative_error(direct.weight, exact.weight), 1e-5) << "the reference itself";
  EXPECT_TRUE(gemm.weight.is_contiguous(torch::MemoryFormat::ChannelsLast))
      << "the gradient has the parameter's layout";
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, GemmWeightGradMatchesDirect,
    ::testing::Values(GemmGeometry{4, 128, 4, 4, 128, 1, 1},   // ResNet layer4 at 112 px (small)
                      GemmGeometry{2, 128, 14, 14, 64, 2, 1},  // a stride-2 block entry
                      GemmGeometry{3, 160, 7, 5, 32, 2, 1},    // odd sizes, odd batch
                      GemmGeometry{2, 128, 9, 9, 48, 1, 0},    // unpadded
                      GemmGeometry{2, 128, 6, 6, 16, 3, 2}),   // stride 3, padding 2
    [](const auto& info) {
      const GemmGeometry& g = info.param;
      return std::to_string(g.c) + "x" + std::to_string(g.h) + "x" + std::to_string(g.w) + "to" +
             std::to_string(g.o) + "stride" + std::to_string(g.stride) + "pad" +
             std::to_string(g.padding);
    });

TEST(GemmWeightGrad, RunsAreBitwiseEqual) {
  SKIP_WITHOUT_ONEDNN();
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  torch::manual_seed(2);
  const auto cl = torch::MemoryFormat::ChannelsLast;
  const auto input = torch::randn({8, 256, 4, 4}).contiguous(cl);
  const auto weight = torch::randn({256, 256, 3, 3}).contiguous(cl);
  const auto probe = torch::randn({8, 256, 4, 4});
  auto conv = [](auto x, auto w) { return conv2d_gemm_weight_grad(x, w, 1, 1, 1); };
  const auto a = conv_grads(conv, input, weight, probe);
  const auto b = conv_grads(conv, input, weight, probe);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a.weight, b.weight));
}

TEST(GemmWeightGrad, AppliesOnlyWhereTheRuleSays) {
  SKIP_WITHOUT_ONEDNN();
  const auto cl = torch::MemoryFormat::ChannelsLast;
  const auto x = torch::randn({2, 128, 4, 4}).contiguous(cl);
  const auto w = torch::randn({64, 128, 3, 3}).requires_grad_(true);
  EXPECT_FALSE(gemm_weight_grad_applies(x, w)) << "switched off by default";
  GemmOn on;
  EXPECT_TRUE(gemm_weight_grad_applies(x, w));
  EXPECT_FALSE(gemm_weight_grad_applies(x.contiguous(), w)) << "NCHW input";
  EXPECT_FALSE(gemm_weight_grad_applies(torch::randn({2, 64, 4, 4}).contiguous(cl),
                                        torch::randn({64, 64, 3, 3}).requires_grad_(true)))
      << "64 input channels";
  EXPECT_FALSE(gemm_weight_grad_applies(x, torch::randn({64, 128, 5, 5}).requires_grad_(true)))
      << "5x5";
  EXPECT_FALSE(gemm_weight_grad_applies(x, w.detach())) << "frozen weight";
  EXPECT_FALSE(gemm_weight_grad_applies(x.to(torch::kDouble), w.to(torch::kDouble))) << "double";
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(gemm_weight_grad_applies(x, w)) << "grad mode off (evaluation)";
}

TEST(GemmWeightGrad, FastConv2dTakesItWhileTrainingOnly) {
  SKIP_WITHOUT_ONEDNN();
  torch::manual_seed(3);
  FastConv2d fast(torch::nn::Conv2dOptions(128, 64, 3).stride(2).padding(1).bias(false));
  fast->weight.set_data(fast->weight.contiguous(torch::MemoryFormat::ChannelsLast));
  const auto x = torch::randn({2, 128, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast);
  GemmOn on;
  fast->train();
  const auto training = fast->forward(x);
  ASSERT_TRUE(training.grad_fn());
  EXPECT_NE(training.grad_fn()->name().find("GemmWeightGradConv"), std::string::npos)
      << training.grad_fn()->name();
  fast->eval();
  EXPECT_EQ(fast->forward(x).grad_fn()->name().find("GemmWeightGradConv"), std::string::npos)
      << "eval mode is LibTorch's";
  EXPECT_TRUE(torch::equal(fast->forward(x), training.detach())) << "the same forward";
}

TEST(GemmWeightGrad, BadShapesAreNamed) {
  try {
    conv2d_gemm_weight_grad(torch::randn({1, 16, 8, 8}), torch::randn({16, 8, 3, 3}), 1, 1, 1);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("1x16x8x8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16x8x3x3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scenery::models
