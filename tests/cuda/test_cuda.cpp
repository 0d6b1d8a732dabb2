// Runs only where LibTorch sees a CUDA device; reported as skipped elsewhere.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/torch_compat.h"

namespace {

TEST(CudaOnly, TensorRoundTripAndAutocastOnGpu) {
  if (!scenery::compat::cuda_available()) GTEST_SKIP() << "no CUDA device";
  auto x = torch::randn({64, 64});
  auto w = torch::randn({64, 64});
  auto expected = torch::mm(x, w);
  scenery::compat::set_autocast(torch::kCUDA, true, torch::kBFloat16);
  auto got = torch::mm(x.cuda(), w.cuda());
  scenery::compat::set_autocast(torch::kCUDA, false, torch::kBFloat16);
  EXPECT_EQ(got.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::allclose(got.cpu().to(torch::kFloat), expected, 0.05, 0.5));
}

}  // namespace
