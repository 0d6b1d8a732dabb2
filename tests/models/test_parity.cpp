// Numerical parity with torchvision: the same weights give the same logits in
// eval mode, and one SGD step (momentum, weight decay) moves the weights and
// BN statistics the same way. The reference numbers come from
// torch_reference.py run by /usr/bin/python3.
#include <gtest/gtest.h>

#include <cstdio>

#include "models/checkpoint.h"
#include "models/models_test_util.h"
#include "models/registry.h"

namespace scenery::models {
namespace {
using namespace testutil;
using scenery::testing::TempDir;

constexpr float kTolerance = 1e-4f;

// Every architecture's reference comes from one Python process (torch and
// torchvision import once, not once per test), run when the suite starts.
class TorchvisionParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_torchvision()) return;  // each test then skips
    dir_ = new TempDir;
    // Both sides on 2 threads (ctest's OMP_NUM_THREADS=1 otherwise): the same thread count
    // gives the same kernels (at 1 thread, ResNet-50 and DenseNet-161 take other paths in
    // Python than in C++: 1e-4 apart before the step, 0.1 after).
    torch::set_num_threads(2);
    run_reference_script("torch_reference.py",
                         "export " + dir_->path().string() +
                             " resnet18:96 resnet50:96 wideresnet18:64 alexnet:64 vgg16:32 "
                             "densenet161:64",
                         "OMP_NUM_THREADS=2");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};
TempDir* TorchvisionParity::dir_ = nullptr;

void expect_parity(const std::string& arch, const TempDir& dir) {
  const std::string file = (dir / (arch + ".pt")).string();
  const auto ref = load_pickle(file);

  SceneModel model = create_model(arch, 10);
  // The reference file is a {'state_dict': ...} wrapper: read it as users' files are.
  load_state_dict(model, read_checkpoint(file).state_dict, LoadMode::kStrict, file);
  const auto x = tensor_at(ref, "input");
  model.eval();
  {
    torch::NoGradGuard no_grad;
    const float d = max_abs_diff(model.forward(x).logits, tensor_at(ref, "logits"));
    std::printf("%s eval logits max abs diff: %.3g\n", arch.c_str(), d);
    EXPECT_LE(d, kTolerance) << arch;
  }

  // One SGD step in training mode, dropout off on both sides.
  model.train();
  for (auto& m : model.module().modules()) {
    if (m->as<torch::nn::Dropout>()) m->eval();
  }
  std::vector<torch::Tensor> params;
  for (const auto& p : model.named_parameters())
    params.push_back(p.value());
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(ref.at("lr").toDouble())
                                    .momentum(ref.at("momentum").toDouble())
                                    .weight_decay(ref.at("weight_decay").toDouble()));
  auto loss =
      torch::nn::functional::cross_entropy(model.forward(x).logits, tensor_at(ref, "target"));
  EXPECT_LE(max_abs_diff(loss, tensor_at(ref, "loss")), kTolerance);
  sgd.zero_grad();
  loss.backward();
  sgd.step();

  float worst = 0;
  std::string worst_key;
  const auto stepped = ref.at("stepped_state_dict").toGenericDict();
  size_t compared = 0;
  for (const auto& item : model.state_dict()) {
    if (!stepped.contains(item.key())) {
      EXPECT_GT(item.value().numel(), 4'000'000) << item.key();
      continue;
    }
    ++compared;
    const float d = max_abs_diff(item.value(), stepped.at(item.key()).toTensor());
    if (d > worst) worst = d, worst_key = item.key();
  }
  std::printf("%s after one SGD step: max abs diff over %zu weights/buffers %.3g (%s)\n",
              arch.c_str(), compared, worst, worst_key.c_str());
  EXPECT_LE(worst, kTolerance) << worst_key;

  model.eval();
  torch::NoGradGuard no_grad;
  const float d = max_abs_diff(model.forward(x).logits, tensor_at(ref, "stepped_logits"));
  std::printf("%s eval logits after the step max abs diff: %.3g\n", arch.c_str(), d);
  EXPECT_LE(d, kTolerance) << arch;
}

TEST_F(TorchvisionParity, ResNet18SameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("resnet18", *dir_);
}
TEST_F(TorchvisionParity, ResNet50SameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("resnet50", *dir_);
}
TEST_F(TorchvisionParity, WideResNet18SameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("wideresnet18", *dir_);
}
TEST_F(TorchvisionParity, AlexNetSameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("alexnet", *dir_);
}
TEST_F(TorchvisionParity, Vgg16SameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("vgg16", *dir_);
}
TEST_F(TorchvisionParity, DenseNet161SameLogitsAndSameSgdStep) {
  SCENERY_REQUIRE_TORCHVISION();
  expect_parity("densenet161", *dir_);
}

}  // namespace
}  // namespace scenery::models
