// Weight import: official Places365 PyTorch checkpoints through
// scripts/convert_places365_checkpoint.py, and Caffe Places-CNNs through
// OpenCV's dnn reader. Fixtures shaped like the official files are generated
// at test time by make_import_fixtures.py.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/caffe_import.h"
#include "models/checkpoint.h"
#include "models/models_test_util.h"
#include "models/registry.h"

namespace scenery::models {
namespace {
namespace fs = std::filesystem;
using namespace testutil;
using scenery::testing::run_command;
using scenery::testing::TempDir;

std::string fixtures(const std::string& what, const TempDir& dir) {
  return run_reference_script("make_import_fixtures.py", what + " " + dir.path().string());
}

torch::Tensor eval_logits(SceneModel& m, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  m.eval();
  return m.forward(x).logits;
}

TEST(Places365Converter, LegacyDataParallelCheckpointsLoadAndGiveTheSameLogits) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("places365", dir);
  const std::string converter =
      std::string(SCENERY_SOURCE_DIR) + "/scripts/convert_places365_checkpoint.py";
  for (const std::string arch : {"resnet18", "wideresnet18", "alexnet", "densenet161"}) {
    const fs::path legacy = dir / (arch + "_places365.pth.tar");
    // The C++ loader refuses the legacy pickle itself, naming the converter.
    auto probe = create_model(arch, 365);
    EXPECT_THROW(load_checkpoint(legacy, probe), CheckpointError);

    const fs::path out = dir / (arch + ".ckpt");
    auto r = run_command(kPython + " " + converter + " " + legacy.string() + " " + out.string() +
                         " --categories " + (dir / "categories_places365.txt").string());
    ASSERT_EQ(r.exit_code, 0) << r.output;

    auto model = create_model(arch, 365);
    Checkpoint c = load_checkpoint(out, model);  // strict: every key, right arch
    EXPECT_EQ(c.meta.arch, arch);
    EXPECT_EQ(c.meta.num_classes, 365);
    ASSERT_EQ(c.meta.class_names.size(), 365u);
    EXPECT_EQ(c.meta.class_names[0], "class_0/indoor");
    EXPECT_EQ(c.meta.class_names[364], "class_364");
    const auto io = load_pickle((dir / (arch + ".io.pt")).string());
    const float d =
        max_abs_diff(eval_logits(model, tensor_at(io, "input")), tensor_at(io, "logits"));
    std::printf("%s converted from a legacy Places365 file: max abs logit diff %.3g\n",
                arch.c_str(), d);
    EXPECT_LE(d, 1e-5) << arch;
  }
}

TEST(CaffeImport, Vgg16MapsExactlyIncludingBgrToRgb) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("caffe_vgg16", dir);
  auto model = create_model("vgg16", 5);
  LoadReport r =
      import_caffe_weights(model, dir / "vgg16_places.prototxt", dir / "vgg16_places.caffemodel");
  EXPECT_EQ(r.loaded.size(), 32u);  // 16 layers x (weight, bias)
  EXPECT_EQ(r.loaded.front(), "features.0.weight <- conv1_1[0]");
  EXPECT_EQ(r.loaded.back(), "classifier.6.bias <- fc8a[1]");
  const auto io = load_pickle((dir / "vgg16_caffe.io.pt").string());
  const float d = max_abs_diff(eval_logits(model, tensor_at(io, "input")), tensor_at(io, "logits"));
  std::printf("vgg16 imported from .caffemodel: max abs logit diff %.3g\n", d);
  EXPECT_LE(d, 1e-5);
}

TEST(CaffeImport, OriginalCaffeNetIsRefusedWithTheReason) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("caffenet", dir);
  auto model = create_model("alexnet", 365);
  try {
    import_caffe_weights(model, dir / "caffenet.prototxt", dir / "caffenet.caffemodel");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("CaffeNet"), std::string::npos) << e.what();
  }
  auto resnet = create_model("resnet18", 365);
  EXPECT_THROW(import_caffe_weights(resnet, dir / "caffenet.prototxt", dir / "caffenet.caffemodel"),
               ModelError);
}

TEST(CaffeImport, MissingFilesAreCheckpointErrors) {
  TempDir dir;
  auto model = create_model("alexnet", 3);
  EXPECT_THROW(import_caffe_weights(model, dir / "none.prototxt", dir / "none.caffemodel"),
               CheckpointError);
}

TEST(CaffeImport, NormalizationReproducesCaffePreprocessing) {
  CheckpointMeta meta;
  caffe_input_normalization({104.0, 117.0, 123.0}, meta);
  // A [0, 1] RGB pixel r normalised as (r - mean) / std equals 255 r - mean_rgb.
  const double r = 0.5;
  EXPECT_NEAR((r - meta.input_mean[0]) / meta.input_std[0], 255 * r - 123.0, 1e-9);
  EXPECT_NEAR((r - meta.input_mean[2]) / meta.input_std[2], 255 * r - 104.0, 1e-9);
}

}  // namespace
}  // namespace scenery::models
