// Helpers shared by the models tests: running the Python reference, reading
// the files it writes.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <iterator>
#include <string>

#include "models/registry.h"
#include "support/test_support.h"

namespace scenery::models::testutil {

inline const std::string kPython = "/usr/bin/python3";

inline std::string reference_script() {
  return std::string(SCENERY_SOURCE_DIR) + "/tests/models/torch_reference.py";
}

// Whether Debian's python has torch + torchvision (it has here and in CI).
inline bool have_torchvision() {
  static const bool ok =
      scenery::testing::run_command(kPython + " -c 'import torch, torchvision'").exit_code == 0;
  return ok;
}

#define SCENERY_REQUIRE_TORCHVISION()                             \
  do {                                                            \
    if (!::scenery::models::testutil::have_torchvision())         \
      GTEST_SKIP() << "/usr/bin/python3 lacks torch/torchvision"; \
  } while (0)

// Copies `from`'s parameters into `to`, a model built the same way.
template <class Model>
void copy_parameters(Model& from, Model& to) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters();
  for (auto& p : to.named_parameters())
    p.value().copy_(source[p.key()]);
}

// Runs tests/models/<script>; fails the test with its output on a non-zero exit.
// `env`: assignments put before the command (e.g. "OMP_NUM_THREADS=2").
inline std::string run_reference_script(const std::string& script, const std::string& args,
                                        const std::string& env = "") {
  auto r = scenery::testing::run_command((env.empty() ? "" : env + " ") + kPython + " " +
                                         std::string(SCENERY_SOURCE_DIR) + "/tests/models/" +
                                         script + " " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}
inline std::string run_reference(const std::string& args) {
  return run_reference_script("torch_reference.py", args);
}

inline c10::Dict<c10::IValue, c10::IValue> load_pickle(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  return torch::pickle_load(bytes).toGenericDict();
}

inline torch::Tensor tensor_at(const c10::Dict<c10::IValue, c10::IValue>& d, const char* key) {
  return d.at(key).toTensor();
}

inline float max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<float>();
}

// Output and input and weight gradients of sum(output * probe) for a
// convolution `conv(input, weight)`, on fresh copies of both.
struct ConvGrads {
  torch::Tensor output, input, weight;
};

template <class Conv>
ConvGrads conv_grads(Conv conv, const torch::Tensor& input, const torch::Tensor& weight,
                     const torch::Tensor& probe) {
  auto x = input.detach().clone().requires_grad_(true);
  auto w = weight.detach().clone().requires_grad_(true);
  auto y = conv(x, w);
  (y * probe.to(y.scalar_type())).sum().backward();
  return {y.detach(), x.grad(), w.grad()};
}

// Logits in eval mode without autograd.
inline torch::Tensor eval_logits(SceneModel& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  m.eval();
  return m.forward(x).logits;
}

// The model's parameters in registration order (tensors share storage with the model).
inline std::vector<torch::Tensor> params_of(SceneModel& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.named_parameters())
    out.push_back(p.value());
  return out;
}

}  // namespace scenery::models::testutil
