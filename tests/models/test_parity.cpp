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

// ctest runs every TEST in its own process, so each exports only its own arch.
void expect_parity(const std::string& arch, int size) {
  SCENERY_REQUIRE_TORCHVISION();
  torch::set_num_threads(2);
  TempDir dir;
  run_reference("export " + dir.path().string() + " " + arch + ":" + std::to_string(size));
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

TEST(TorchvisionParity, ResNet18SameLogitsAndSameSgdStep) {
  expect_parity("resnet18", 96);
}
TEST(TorchvisionParity, ResNet50SameLogitsAndSameSgdStep) {
  expect_parity("resnet50", 96);
}
TEST(TorchvisionParity, WideResNet18SameLogitsAndSameSgdStep) {
  expect_parity("wideresnet18", 64);
}
TEST(TorchvisionParity, AlexNetSameLogitsAndSameSgdStep) {
  expect_parity("alexnet", 64);
}
TEST(TorchvisionParity, Vgg16SameLogitsAndSameSgdStep) {
  expect_parity("vgg16", 32);
}
TEST(TorchvisionParity, DenseNet161SameLogitsAndSameSgdStep) {
  expect_parity("densenet161", 64);
}

}  // namespace
}  // namespace scenery::models
