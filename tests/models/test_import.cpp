// Weight import: official Places365 PyTorch checkpoints through
// scripts/convert_places365_checkpoint.py, and Caffe Places-CNNs through
// OpenCV's dnn reader. Fixtures shaped like the official files are generated
// at test time by make_import_fixtures.py.
#include <gtest/gtest.h>

#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "models/caffe_import.h"
#include "models/checkpoint.h"
#include "models/keras_import.h"
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

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Places365Converter, RefusesCodeInACheckpointWithoutRunningIt) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("untrusted", dir);
  const std::string converter =
      std::string(SCENERY_SOURCE_DIR) + "/scripts/convert_places365_checkpoint.py";
  const fs::path out = dir / "out.ckpt";
  auto convert = [&](const std::string& name) {
    return run_command(kPython + " " + converter + " " + (dir / name).string() + " " +
                       out.string() + " --arch resnet18");
  };
  // Plain torch.load would run os.system("touch DIR/pwned") for both formats.
  for (const std::string name : {"evil_zip.pth.tar", "evil_legacy.pth.tar"}) {
    const auto r = convert(name);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, (dir / name).string())) << r.output;
    EXPECT_TRUE(contains(r.output, "'posix.system'")) << r.output;
    EXPECT_FALSE(contains(r.output, "Traceback")) << r.output;
    EXPECT_FALSE(fs::exists(dir / "pwned")) << name << " ran the code it carries";
    EXPECT_FALSE(fs::exists(out)) << name;
  }
  const auto whole = convert("whole_resnet18_places365.pth.tar");
  EXPECT_NE(whole.exit_code, 0);
  EXPECT_TRUE(contains(whole.output, "'torchvision.models.resnet.ResNet'")) << whole.output;
  EXPECT_TRUE(contains(whole.output, "state-dict release")) << whole.output;

  const auto truncated = convert("truncated.pth.tar");
  EXPECT_NE(truncated.exit_code, 0);
  EXPECT_TRUE(contains(truncated.output, (dir / "truncated.pth.tar").string())) << truncated.output;
  EXPECT_FALSE(contains(truncated.output, "Traceback")) << truncated.output;
  EXPECT_FALSE(fs::exists(out));

  // The zip format of today's torch.save still converts, every tensor equal to what
  // LibTorch's own reader finds in the same state dict saved as a plain dict.
  const auto zip = convert("resnet18_zip.pth");
  ASSERT_EQ(zip.exit_code, 0) << zip.output;
  auto model = create_model("resnet18", 365);
  const Checkpoint converted = load_checkpoint(out, model);
  EXPECT_EQ(converted.meta.arch, "resnet18");
  const Checkpoint source = read_checkpoint(dir / "resnet18_reference.pth");
  ASSERT_EQ(source.state_dict.size(), converted.state_dict.size());
  for (const auto& item : source.state_dict) {
    const torch::Tensor* mine = converted.state_dict.find(item.key());
    ASSERT_NE(mine, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(*mine, item.value())) << item.key();
  }
  EXPECT_FALSE(fs::exists(dir / "pwned"));
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

TEST(CaffeImport, PlacesAlexNetImportsIntoCaffeNetAndMatchesOpenCvsCaffeForward) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("caffenet_full", dir);
  const fs::path prototxt = dir / "caffenet_places.prototxt";
  const fs::path caffemodel = dir / "caffenet_places.caffemodel";
  auto model = create_model("caffenet", 7);
  const LoadReport r = import_caffe_weights(model, prototxt, caffemodel);
  EXPECT_EQ(r.loaded.size(), 16u);  // 8 layers x (weight, bias)
  EXPECT_EQ(r.loaded[2], "features.4.weight <- conv2[0]");
  EXPECT_EQ(r.loaded.back(), "classifier.6.bias <- fc8[1]");

  // Independent truth: OpenCV's implementation of Caffe's layers (LRN, grouped
  // convolutions, ceil-rounded pooling) running the same files on BGR input.
  torch::manual_seed(3);
  const auto bgr = torch::rand({2, 3, 227, 227}) * 50;
  cv::dnn::Net net = cv::dnn::readNetFromCaffe(prototxt.string(), caffemodel.string());
  const int dims[] = {2, 3, 227, 227};
  cv::Mat blob(4, dims, CV_32F, bgr.data_ptr<float>());
  net.setInput(blob);
  const cv::Mat fc8 = net.forward("fc8");
  const auto caffe =
      torch::from_blob(const_cast<float*>(fc8.ptr<float>()), {2, 7}, torch::kFloat).clone();
  model.eval();
  torch::NoGradGuard no_grad;
  const auto ours = model.forward(bgr.flip({1}));  // our conv1 takes RGB
  const float scale = caffe.abs().max().item<float>();
  const float d = (ours.logits - caffe).abs().max().item<float>();
  std::printf("caffenet vs OpenCV's Caffe forward: max abs logit diff %.3g (logits up to %.3g)\n",
              d, scale);
  EXPECT_GT(scale, 1e-2f);  // the comparison is not between zeros
  EXPECT_LE(d, 1e-4f * std::max(1.0f, scale));

  // BVLC's order (LRN before pooling) is another function: refused, not loaded.
  auto other = create_model("caffenet", 7);
  try {
    import_caffe_weights(other, dir / "bvlc_order.prototxt", dir / "bvlc_order.caffemodel");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("layer order"), std::string::npos) << e.what();
  }
}

TEST(CaffeImport, PlacesGoogLeNetImportsByNameAndMatchesOpenCvsCaffeForward) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("googlenet", dir);
  const fs::path prototxt = dir / "googlenet_places.prototxt";
  const fs::path caffemodel = dir / "googlenet_places.caffemodel";
  auto model = create_model("googlenet_places", 9);
  const LoadReport r = import_caffe_weights(model, prototxt, caffemodel);
  EXPECT_EQ(r.loaded.size(), 116u);  // 57 convolutions + the classifier, weight and bias
  EXPECT_EQ(r.loaded[0], "conv1.weight <- conv1/7x7_s2[0]");
  EXPECT_NE(std::find(r.loaded.begin(), r.loaded.end(),
                      "inception4d.branch3.1.weight <- inception_4d/5x5[0]"),
            r.loaded.end());
  EXPECT_EQ(r.loaded.back(), "fc.bias <- loss3/classifier[1]");
  EXPECT_EQ(model.named_parameters().size(), r.loaded.size());  // every parameter came from Caffe

  // Independent truth: OpenCV's Caffe layers (LRN, ceil-rounded pooling,
  // padded max-pooling in the inception modules, concat, 7x7 average) on BGR input.
  torch::manual_seed(4);
  const auto bgr = torch::rand({2, 3, 224, 224}) * 50;
  cv::dnn::Net net = cv::dnn::readNetFromCaffe(prototxt.string(), caffemodel.string());
  const int dims[] = {2, 3, 224, 224};
  cv::Mat blob(4, dims, CV_32F, bgr.data_ptr<float>());
  net.setInput(blob);
  const cv::Mat logits = net.forward("loss3/classifier");
  const auto caffe =
      torch::from_blob(const_cast<float*>(logits.ptr<float>()), {2, 9}, torch::kFloat).clone();
  model.eval();
  torch::NoGradGuard no_grad;
  const auto ours = model.forward(bgr.flip({1}));  // our conv1 takes RGB
  const float scale = caffe.abs().max().item<float>();
  const float d = (ours.logits - caffe).abs().max().item<float>();
  std::printf(
      "googlenet_places vs OpenCV's Caffe forward: max abs logit diff %.3g (logits up to "
      "%.3g)\n",
      d, scale);
  EXPECT_GT(scale, 1e-2f);
  EXPECT_LE(d, 1e-4f * std::max(1.0f, scale));
  // It has class activation maps: the classifier averages inception5b.
  ASSERT_TRUE(model.has_pooled_classifier());
  EXPECT_EQ(model.pooled_classifier().features(bgr).sizes(), torch::IntArrayRef({2, 1024, 7, 7}));
}

TEST(KerasImport, Vgg16PlacesPortsLoadInEitherLayoutWithTorchvisionsLogits) {
  SCENERY_REQUIRE_TORCHVISION();
  if (!keras_import_available()) GTEST_SKIP() << "built without HDF5 (libhdf5-dev)";
  if (run_command(kPython + " -c 'import h5py'").exit_code != 0)
    GTEST_SKIP() << "/usr/bin/python3 lacks h5py (python3-h5py)";
  TempDir dir;
  fixtures("keras_vgg16", dir);
  auto io = load_pickle((dir / "vgg16_keras.io.pt").string());
  const auto x = io.at("input").toTensor();
  const auto expected = io.at("logits").toTensor();
  struct Case {
    std::string file, backend;
    bool channels_last, oihw;
  };
  for (const Case& c : {Case{"vgg16_tf.h5", "tensorflow", true, false},
                        Case{"vgg16_th.h5", "theano", false, true}}) {
    SCOPED_TRACE(c.file);
    const KerasFileInfo info = inspect_keras_vgg16(dir / c.file);
    EXPECT_EQ(info.backend, c.backend);
    EXPECT_EQ(info.channels_last, c.channels_last);
    EXPECT_EQ(info.kernels_oihw, c.oihw);
    ASSERT_EQ(info.num_classes, 365);
    auto model = create_model("vgg16", info.num_classes);
    int64_t parameters = 0;
    for (const auto& p : model.named_parameters())
      parameters += p.value().numel();
    EXPECT_EQ(parameters, 135'755'949);  // the port's count at 365 classes
    const LoadReport r = import_keras_vgg16(model, dir / c.file);
    EXPECT_EQ(r.loaded.size(), 32u);  // 13 convolutions + 3 dense layers, kernel and bias
    // The fixture's torchvision model reads the port's BGR; ours RGB.
    const auto ours = eval_logits(model, x.flip({1}));
    const float scale = expected.abs().max().item<float>();
    const float d = (ours - expected).abs().max().item<float>();
    std::printf("%s vs torchvision vgg16: max abs logit diff %.3g (logits up to %.3g)\n",
                c.file.c_str(), d, scale);
    EXPECT_GT(scale, 1e-2f);
    EXPECT_LE(d, 1e-4f * std::max(1.0f, scale));
  }
  auto resnet = create_model("resnet18", 365);
  EXPECT_THROW(import_keras_vgg16(resnet, dir / "vgg16_tf.h5"), ModelError);
  scenery::testing::write_text(dir / "not.h5", "plain text");
  try {
    inspect_keras_vgg16(dir / "not.h5");
    FAIL() << "read a text file";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("not.h5: not an HDF5 file"), std::string::npos)
        << e.what();
  }
}

TEST(CaffeImport, CommandLineWritesACheckpointWithCaffesPreprocessingAndNames) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("caffenet_full", dir);
  {
    std::ofstream names(dir / "categories.txt");
    for (int i = 0; i < 7; ++i)
      names << "/c/class_" << i << " " << i << "\n";
  }
  const std::string common = " import-caffe --arch caffenet --num-classes 7 --prototxt " +
                             (dir / "caffenet_places.prototxt").string() + " --caffemodel " +
                             (dir / "caffenet_places.caffemodel").string();
  const auto ok = scenery::testing::run_command(
      scenery::testing::tool_path("scenery-models") + common +
      " --mean-bgr 104,117,123 --input-size 227 --categories " + (dir / "categories.txt").string() +
      " --out " + (dir / "places.ckpt").string());
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  const Checkpoint c = read_checkpoint(dir / "places.ckpt");
  EXPECT_EQ(c.meta.arch, "caffenet");
  EXPECT_EQ(c.meta.num_classes, 7);
  EXPECT_EQ(c.meta.input_size, 227);
  ASSERT_EQ(c.meta.class_names.size(), 7u);
  EXPECT_EQ(c.meta.class_names[3], "/c/class_3");
  EXPECT_NEAR(c.meta.input_mean[0], 123.0 / 255.0, 1e-12);  // R first
  auto direct = create_model("caffenet", 7);
  import_caffe_weights(direct, dir / "caffenet_places.prototxt",
                       dir / "caffenet_places.caffemodel");
  for (const auto& p : direct.state_dict())
    EXPECT_TRUE(torch::equal(p.value(), c.state_dict[p.key()])) << p.key();
  // A bad mean or a name count that does not match: usage errors, nothing written.
  const auto bad =
      scenery::testing::run_command(scenery::testing::tool_path("scenery-models") + common +
                                    " --mean-bgr 104,117 --out " + (dir / "bad.ckpt").string());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("mean-bgr"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "bad.ckpt"));
}

TEST(CaffeImport, CaffeNetIntoTorchvisionAlexNetIsRefusedNamingCaffeNet) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  fixtures("caffenet", dir);
  auto model = create_model("alexnet", 365);
  try {
    import_caffe_weights(model, dir / "caffenet.prototxt", dir / "caffenet.caffemodel");
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model.arch = caffenet"), std::string::npos) << e.what();
  }
  auto resnet = create_model("resnet18", 365);
  EXPECT_THROW(import_caffe_weights(resnet, dir / "caffenet.prototxt", dir / "caffenet.caffemodel"),
               ModelError);
  // The partial net (two convolutions) is not a whole CaffeNet either.
  auto caffenet = create_model("caffenet", 365);
  EXPECT_THROW(
      import_caffe_weights(caffenet, dir / "caffenet.prototxt", dir / "caffenet.caffemodel"),
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
