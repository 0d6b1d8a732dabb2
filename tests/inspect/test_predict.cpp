// scenery-inspect predict: the Places365 demo's procedure, checked against a
// step-for-step Python rewrite of the official script (places_demo_reference.py,
// numpy + OpenCV's Python bindings) on the same weights and image, plus the
// pieces against hand-computed cases and the tool end to end.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <regex>

#include "core/error.h"
#include "data/decode.h"
#include "eval/eval_test_helpers.h"
#include "inspect/class_activation.h"
#include "inspect/places_annotations.h"
#include "inspect/predict_output.h"
#include "inspect/scene_predictor.h"
#include "models/checkpoint.h"
#include "models/npy.h"
#include "models/registry.h"
#include "support/test_support.h"

namespace scenery::inspect {
namespace {

namespace fs = std::filesystem;
using scenery::testing::read_text;
using scenery::testing::run_command;
using scenery::testing::TempDir;
using scenery::testing::tool_path;
using scenery::testing::write_text;

const std::string kPython = "/usr/bin/python3";

bool have_python_opencv() {
  static const bool ok =
      run_command(kPython + " -c 'import cv2, numpy, torch, torchvision, PIL'").exit_code == 0;
  return ok;
}

std::string reference_script() {
  return std::string(SCENERY_SOURCE_DIR) + "/tests/inspect/places_demo_reference.py";
}

void python(const std::string& code) {
  auto r = run_command(kPython + " -c '" + code + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// --- .npy --------------------------------------------------------------------------------

TEST(Npy, ReadsWhatNumpyWrote) {
  if (!have_python_opencv()) GTEST_SKIP() << "/usr/bin/python3 lacks numpy";
  TempDir dir;
  const std::string d = dir.path().string();
  python(
      "import numpy as np\n"
      "a = (np.arange(60, dtype=np.float32).reshape(3, 4, 5) / 7).astype(\"<f4\")\n"
      "np.save(\"" +
      d +
      "/f4.npy\", a)\n"
      "np.save(\"" +
      d +
      "/f8.npy\", np.arange(6, dtype=np.float64).reshape(2, 3) / 3)\n"
      "np.save(\"" +
      d +
      "/scalar.npy\", np.float64(2.5))\n"
      "with open(\"" +
      d +
      "/v2.npy\", \"wb\") as f:\n"
      "    np.lib.format.write_array(f, a, version=(2, 0))\n");
  const auto f4 = models::read_npy(dir / "f4.npy");
  ASSERT_EQ(f4.scalar_type(), torch::kFloat32);
  ASSERT_EQ(f4.sizes(), torch::IntArrayRef({3, 4, 5}));
  EXPECT_TRUE(torch::equal(f4, torch::arange(60, torch::kFloat32).reshape({3, 4, 5}) / 7));
  EXPECT_TRUE(torch::equal(models::read_npy(dir / "v2.npy"), f4));
  const auto f8 = models::read_npy(dir / "f8.npy");
  ASSERT_EQ(f8.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(f8, torch::arange(6, torch::kFloat64).reshape({2, 3}) / 3));
  const auto scalar = models::read_npy(dir / "scalar.npy");
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<double>(), 2.5);
}

TEST(Npy, RefusesWhatItCannotRepresentNamingTheFile) {
  if (!have_python_opencv()) GTEST_SKIP() << "/usr/bin/python3 lacks numpy";
  TempDir dir;
  const std::string d = dir.path().string();
  python(
      "import numpy as np\n"
      "a = np.arange(6, dtype=np.float32).reshape(2, 3)\n"
      "np.save(\"" +
      d +
      "/fortran.npy\", np.asfortranarray(a))\n"
      "np.save(\"" +
      d +
      "/big.npy\", a.astype(\">f4\"))\n"
      "np.save(\"" +
      d +
      "/int.npy\", a.astype(np.int64))\n"
      "np.save(\"" +
      d + "/ok.npy\", a)\n");
  const auto message = [&](const std::string& name) {
    try {
      models::read_npy(dir / name);
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("fortran.npy").find("Fortran order"), std::string::npos);
  EXPECT_NE(message("big.npy").find("'>f4'"), std::string::npos);
  EXPECT_NE(message("int.npy").find("'<i8'"), std::string::npos);
  EXPECT_NE(message("int.npy").find("int.npy"), std::string::npos);
  // Truncated data names the bytes it needed.
  const std::string bytes = read_text(dir / "ok.npy");
  write_text(dir / "short.npy", bytes.substr(0, bytes.size() - 4));
  EXPECT_NE(message("short.npy").find("needs 24 bytes"), std::string::npos) << message("short.npy");
  write_text(dir / "text.npy", "not numpy");
  EXPECT_NE(message("text.npy").find("not a .npy file"), std::string::npos);
}

// --- indoor/outdoor and attributes -------------------------------------------------------

TEST(PlacesAnnotations, IndoorOutdoorVoteIsTheMeanOverTheTopTen) {
  TempDir dir;
  // 12 classes: 1 = indoor, 2 = outdoor.
  write_text(dir / "io.txt",
             "/a/a 1\n/b/b 2\n/c/c 2\n/d/d 1\n/e/e 1\n/f/f 2\n/g/g 1\n/h/h 1\n/i/i 1\n"
             "/j/j 2\n/k/k 2\n/l/l 2\n");
  const auto io = read_indoor_outdoor(dir / "io.txt", 12);
  ASSERT_EQ(io, (std::vector<int>{0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1}));
  // Top-10 = classes 0..9: four outdoor -> 0.4 -> indoor.
  const std::vector<int64_t> ranked{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  auto v = vote_indoor_outdoor(io, ranked.data());
  EXPECT_DOUBLE_EQ(v.score, 0.4);
  EXPECT_TRUE(v.indoor);
  // Ranked from the end: 11,10,9,8,...,2 -> outdoor 11,10,9,5,2,1? (1 is 11th) -> 5 of 10.
  const std::vector<int64_t> reversed{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  v = vote_indoor_outdoor(io, reversed.data());
  EXPECT_DOUBLE_EQ(v.score, 0.5);
  EXPECT_FALSE(v.indoor);  // 0.5 is not < 0.5: outdoor, as the demo decides
}

TEST(PlacesAnnotations, FilesThatDoNotFitTheModelNameBothSizes) {
  TempDir dir;
  write_text(dir / "io.txt", "/a/a 1\n/b/b 2\n");
  try {
    read_indoor_outdoor(dir / "io.txt", 365);
    FAIL() << "accepted 2 lines for 365 classes";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("2 categories, but the model has 365"), std::string::npos)
        << e.what();
  }
  write_text(dir / "bad.txt", "/a/a 1\n/b/b 3\n");
  try {
    read_indoor_outdoor(dir / "bad.txt", 2);
    FAIL() << "accepted the value 3";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:2"), std::string::npos) << e.what();
  }
  if (!have_python_opencv()) return;
  write_text(dir / "names.txt", "open area\nnatural light\nwood\n");
  python("import numpy as np; np.save(\"" + dir.path().string() + "/w.npy\", np.zeros((3, 256)))");
  try {
    read_scene_attributes(dir / "names.txt", dir / "w.npy", 512);
    FAIL() << "accepted 256 features for 512";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("is 3 x 256"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected 3 x 512"), std::string::npos) << e.what();
  }
  const auto attributes = read_scene_attributes(dir / "names.txt", dir / "w.npy", 256);
  EXPECT_EQ(attributes.names, (std::vector<std::string>{"open area", "natural light", "wood"}));
}

TEST(PlacesAnnotations, TopAttributesAreTheStrongestResponsesOfWTimesTheFeature) {
  SceneAttributes a;
  a.names = {"a", "b", "c", "d"};
  // responses to f = (1, 2): a = 1, b = -2, c = 5, d = 3.
  a.weights =
      torch::tensor({1.0, 0.0, 0.0, -1.0, 1.0, 2.0, 3.0, 0.0}, torch::kFloat64).view({4, 2});
  const auto top = top_attributes(a, torch::tensor({1.0f, 2.0f}), 3);
  EXPECT_EQ(top, (std::vector<int64_t>{2, 3, 0}));
}

// --- class activation maps ---------------------------------------------------------------

TEST(ClassActivation, HandComputedMapWithAndWithoutClampedWeights) {
  // Two channels of 2 x 2: cam = w0 * F0 + w1 * F1.
  const auto features =
      torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 4.0f, 0.0f, 0.0f, 0.0f}).view({2, 2, 2});
  const auto weights = torch::tensor({1.0f, -1.0f});
  // Clamped: w = (1, 0): cam = 1 2 3 4 -> minus 1 = 0 1 2 3 -> / 3 * 255 = 0 85 170 255.
  auto cam = class_activation_map(features, weights, true);
  EXPECT_EQ(cam.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(cam.at<uint8_t>(0, 1), 85);
  EXPECT_EQ(cam.at<uint8_t>(1, 0), 170);
  EXPECT_EQ(cam.at<uint8_t>(1, 1), 255);
  // Plain: cam = -3 2 3 4 -> 0 5 6 7 -> * 255 / 7 = 0 182.14 218.57 255, truncated.
  cam = class_activation_map(features, weights, false);
  EXPECT_EQ(cam.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(cam.at<uint8_t>(0, 1), 182);
  EXPECT_EQ(cam.at<uint8_t>(1, 0), 218);
  EXPECT_EQ(cam.at<uint8_t>(1, 1), 255);
  // A constant map is zero, not NaN.
  cam = class_activation_map(torch::ones({2, 3, 3}), torch::tensor({1.0f, 1.0f}));
  EXPECT_EQ(cv::countNonZero(cam), 0);
  // Several classes at once equal one at a time.
  const auto rows = torch::tensor({1.0f, -1.0f, 0.5f, 2.0f}).view({2, 2});
  const auto maps = class_activation_maps(features, rows, false);
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(cv::norm(maps[1], class_activation_map(features, rows[1], false), cv::NORM_INF), 0);
}

TEST(ClassActivation, LocalisationBoxCoversTheLargestComponentAboveTheFraction) {
  cv::Mat heat(40, 50, CV_8UC1, cv::Scalar(10));
  heat(cv::Rect(5, 5, 4, 4)) = 250;      // small, brightest
  heat(cv::Rect(20, 10, 20, 15)) = 100;  // largest above 0.2 * 250 = 50
  heat(cv::Rect(0, 35, 50, 5)) = 40;     // large but below the threshold
  const cv::Rect box = localisation_box(heat, 0.2);
  EXPECT_EQ(box, cv::Rect(20, 10, 20, 15));
  EXPECT_TRUE(localisation_box(cv::Mat(8, 8, CV_8UC1, cv::Scalar(0))).empty());
}

TEST(ClassActivation, RenderBlendsJetAndTheImageAsTheDemo) {
  cv::Mat heat(2, 2, CV_8UC1, cv::Scalar(0));
  heat.at<uint8_t>(0, 1) = 255;
  cv::Mat image(2, 2, CV_8UC3, cv::Scalar(100, 50, 201));
  const cv::Mat out = render_activation(heat, image);
  // JET(0) = BGR (128, 0, 0); JET(255) = (0, 0, 128) in OpenCV's table.
  cv::Mat jet;
  cv::applyColorMap(heat, jet, cv::COLORMAP_JET);
  for (int c = 0; c < 3; ++c) {
    const double expected = jet.at<cv::Vec3b>(0, 0)[c] * 0.4 + image.at<cv::Vec3b>(0, 0)[c] * 0.5;
    EXPECT_EQ(out.at<cv::Vec3b>(0, 0)[c], cvRound(expected)) << c;
  }
}

// --- the official demo, side by side -----------------------------------------------------

class PredictFidelity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_python_opencv()) return;
    dir_ = new TempDir();
    auto r = run_command(kPython + " " + reference_script() + " make " + dir_->path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_command(kPython + " " + reference_script() + " run " + dir_->path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The release's legacy pickle through the converter users run.
    r = run_command(kPython + " " + std::string(SCENERY_SOURCE_DIR) +
                    "/scripts/convert_places365_checkpoint.py " +
                    path("wideresnet18_places365.pth.tar") + " " + path("wideresnet18.ckpt") +
                    " --arch wideresnet18 --categories " + path("categories_places365.txt"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_python_opencv()) GTEST_SKIP() << "/usr/bin/python3 lacks cv2 (python3-opencv)";
  }
  static std::string path(const std::string& name) { return (dir_->path() / name).string(); }

  static TempDir* dir_;
};
TempDir* PredictFidelity::dir_ = nullptr;

// The numbers of reference.json, read with a regex: it is our own flat file.
std::vector<double> json_numbers(const std::string& json, const std::string& key) {
  const std::regex array("\"" + key + "\": \\[([^\\]]*)\\]");
  std::smatch m;
  std::vector<double> out;
  if (!std::regex_search(json, m, array)) return out;
  std::stringstream in(m[1].str());
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::stod(item));
  return out;
}
std::vector<std::string> json_strings(const std::string& json, const std::string& key) {
  const std::regex array("\"" + key + "\": \\[([^\\]]*)\\]");
  std::smatch m;
  std::vector<std::string> out;
  if (!std::regex_search(json, m, array)) return out;
  const std::string body = m[1].str();
  const std::regex item("\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), item); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1].str());
  return out;
}

TEST_F(PredictFidelity, MatchesTheOfficialDemoOnTheSameWeightsAndImage) {
  auto model = models::create_model("wideresnet18", 365);
  const auto checkpoint = models::load_checkpoint(path("wideresnet18.ckpt"), model);
  PredictOptions options;
  options.top_k = 365;  // every probability, ranked
  options.cam_top = 5;
  options.clamp_classifier = true;  // the unified demo's numbers (see places_demo_reference.py)
  options.indoor_outdoor = read_indoor_outdoor(path("IO_places365.txt"), 365);
  options.attributes = read_scene_attributes(path("labels_sunattribute.txt"),
                                             path("W_sceneattribute_wideresnet18.npy"), 512);
  ScenePredictor predictor(model, options, torch::kCPU);
  const cv::Mat rgb = data::decode_rgb(path("test.jpg"));
  const auto predictions = predictor.predict(predictor.preprocess(rgb).unsqueeze(0), {rgb.size()});
  ASSERT_EQ(predictions.size(), 1u);
  const ImagePrediction& p = predictions[0];

  const std::string reference = read_text(path("reference.json"));
  const auto probabilities = json_numbers(reference, "probabilities");
  ASSERT_EQ(probabilities.size(), 365u);
  const auto top5 = json_numbers(reference, "top5");
  ASSERT_EQ(p.top_classes.size(), 365u);
  double worst = 0;
  for (size_t k = 0; k < 365; ++k) {
    if (k < 5) {
      EXPECT_EQ(p.top_classes[k], static_cast<int64_t>(top5[k])) << "rank " << k;
    }
    const double d =
        std::abs(p.top_probabilities[k] - probabilities[static_cast<size_t>(p.top_classes[k])]);
    EXPECT_LE(d, 1e-5) << "class " << p.top_classes[k];
    worst = std::max(worst, d);
  }
  std::printf("largest probability difference from the official demo: %.3g\n", worst);
  // Names come from the converted checkpoint, as the demo's from the category file.
  const auto names = json_strings(reference, "top5_names");
  ASSERT_EQ(names.size(), 5u);
  for (size_t k = 0; k < 5; ++k)
    EXPECT_EQ(checkpoint.meta.class_names.at(static_cast<size_t>(p.top_classes[k])), names[k]);
  ASSERT_TRUE(p.indoor_outdoor);
  const std::regex io("\"io_score\": ([0-9.e-]+), \"environment\": \"(\\w+)\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(reference, m, io)) << reference;
  EXPECT_DOUBLE_EQ(p.indoor_outdoor->score, std::stod(m[1].str()));
  EXPECT_EQ(p.indoor_outdoor->indoor ? "indoor" : "outdoor", m[2].str());
  std::vector<std::string> attributes;
  for (int64_t a : p.attributes)
    attributes.push_back(options.attributes->names.at(static_cast<size_t>(a)));
  EXPECT_EQ(attributes, json_strings(reference, "attributes"));

  // The maps: the 14 x 14 uint8 arrays may differ by one grey level where
  // 255 * cam lands within float32 rounding of an integer (the two forwards
  // sum in different orders); everything after them is the same OpenCV code.
  const cv::Mat bgr = cv::imread(path("test.jpg"));
  ASSERT_EQ(p.activations.size(), 5u);  // cam_top 5: the demo's top-5 classes
  const auto features = model.pooled_classifier().features(
      predictor.preprocess(rgb).unsqueeze(0).contiguous(torch::MemoryFormat::ChannelsLast));
  int differing14 = 0;
  for (size_t k = 0; k < 5; ++k) {
    const cv::Mat ref14 =
        cv::imread(path("cam14_" + std::to_string(k) + ".png"), cv::IMREAD_GRAYSCALE);
    const cv::Mat ref256 =
        cv::imread(path("cam256_" + std::to_string(k) + ".png"), cv::IMREAD_GRAYSCALE);
    const cv::Mat ref = cv::imread(path("cam_" + std::to_string(k) + ".png"));
    const cv::Mat ours14 = class_activation_map(
        features[0], model.pooled_classifier_weight()[p.activations[k].class_index]);
    ASSERT_EQ(ours14.size(), cv::Size(14, 14));
    EXPECT_LE(cv::norm(ours14, ref14, cv::NORM_INF), 1) << "class rank " << k;
    differing14 += cv::countNonZero(ours14 != ref14);
    const cv::Mat& heat = p.activations[k].heat;
    EXPECT_EQ(cv::norm(heat, upsample_activation(ours14, rgb.size()), cv::NORM_INF), 0);
    if (cv::countNonZero(ours14 != ref14) == 0) {
      cv::Mat ours256;
      cv::resize(ours14, ours256, {256, 256});
      EXPECT_EQ(cv::norm(ours256, ref256, cv::NORM_INF), 0) << "class rank " << k;
      EXPECT_EQ(cv::norm(render_activation(heat, bgr), ref, cv::NORM_INF), 0) << "class rank " << k;
    }
  }
  // Bound: at most a few of the 5 x 196 map cells.
  EXPECT_LE(differing14, 10);
  std::printf("CAM cells differing from the official demo by one grey level: %d of 980\n",
              differing14);

  // By default the probabilities are the network's as trained: the basic
  // script's, which the unified demo's in-place clamp changes.
  options.clamp_classifier = false;
  ScenePredictor plain(model, options, torch::kCPU);
  const auto q = plain.predict(predictor.preprocess(rgb).unsqueeze(0), {rgb.size()})[0];
  const auto plain_probabilities = json_numbers(reference, "plain_probabilities");
  const auto plain_top5 = json_numbers(reference, "plain_top5");
  ASSERT_EQ(plain_probabilities.size(), 365u);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(q.top_classes[k], static_cast<int64_t>(plain_top5[k])) << "rank " << k;
    EXPECT_NEAR(q.top_probabilities[k], plain_probabilities[static_cast<size_t>(q.top_classes[k])],
                1e-5);
  }
  EXPECT_NE(q.top_classes, p.top_classes);  // the fixture shows the difference
  // The maps do not depend on it.
  EXPECT_EQ(
      cv::norm(q.activations[0].heat,
               upsample_activation(
                   class_activation_map(
                       features[0], model.pooled_classifier_weight()[q.activations[0].class_index]),
                   rgb.size()),
               cv::NORM_INF),
      0);
}

TEST_F(PredictFidelity, ToolRunsTheReleaseFilesOnAFolder) {
  TempDir out;
  fs::create_directories(out / "images" / "sub");
  fs::copy_file(path("test.jpg"), out / "images" / "a.jpg");
  fs::copy_file(path("test.jpg"), out / "images" / "sub" / "b.jpg");
  const auto r = run_command(
      tool_path("scenery-inspect") + " predict --inspect.checkpoint " + path("wideresnet18.ckpt") +
      " --inspect.input " + (out / "images").string() + " --inspect.out " + (out / "o").string() +
      " --inspect.io_labels " + path("IO_places365.txt") + " --inspect.attribute_names " +
      path("labels_sunattribute.txt") + " --inspect.attribute_weights " +
      path("W_sceneattribute_wideresnet18.npy") +
      " --inspect.clamp_classifier true --cam.top 2 --cam.format png" +
      " --cam.classes 0,class_1 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string jsonl = read_text(out / "o" / "predictions.jsonl");
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 2);
  EXPECT_NE(jsonl.find("\"image\":\"a.jpg\""), std::string::npos) << jsonl;
  EXPECT_NE(jsonl.find("\"image\":\"sub/b.jpg\""), std::string::npos);
  EXPECT_NE(jsonl.find("\"environment\":{\"type\":"), std::string::npos);
  const std::string reference = read_text(path("reference.json"));
  const auto ref_attributes = json_strings(reference, "attributes");
  EXPECT_NE(jsonl.find("\"attributes\":[\"" + ref_attributes[0] + "\""), std::string::npos);
  // Top-2 plus classes 0 and 1: four maps per image, each the image's size,
  // the first equal to the demo's picture (exactly, when its map matched).
  const auto top5 = json_numbers(reference, "top5");
  const auto names = json_strings(reference, "top5_names");
  const fs::path first =
      out / "o" / map_file_name("sub/b.jpg", static_cast<int64_t>(top5[0]), names[0], "png");
  ASSERT_TRUE(fs::exists(first)) << first << "\n" << jsonl;
  const cv::Mat map = cv::imread(first.string());
  const cv::Mat ref = cv::imread(path("cam_0.png"));
  ASSERT_EQ(map.size(), ref.size());
  cv::Mat diff;
  cv::absdiff(map, ref, diff);
  double worst = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
  EXPECT_LE(worst, 3);  // one grey level of the map is at most 3 levels of JET x 0.4
  EXPECT_TRUE(fs::exists(out / "o" / map_file_name("a.jpg", 0, "class_0/indoor", "png")));
  EXPECT_TRUE(fs::exists(out / "o" / map_file_name("a.jpg", 1, "class_1", "png")));
  const std::string csv = read_text(out / "o" / "predictions.csv");
  EXPECT_EQ(csv.rfind("image,label,class1,name1,probability1", 0), 0u) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_NE(read_text(out / "o" / "predict.json").find("\"preprocess\": \"squash\""),
            std::string::npos);
}

// --- any registry classifier -------------------------------------------------------------

TEST(ScenePredictor, LogitsEqualTheNetworksOwnForwardForEveryPooledClassifier) {
  torch::manual_seed(1);
  const auto x = torch::randn({2, 3, 64, 64});
  for (const std::string arch : {"resnet18", "wideresnet18", "densenet161", "sascene_resnet18"}) {
    SCOPED_TRACE(arch);
    auto model = models::create_model(arch, 7);
    model.eval();
    ASSERT_TRUE(model.has_pooled_classifier());
    PredictOptions options;
    options.top_k = 7;
    options.cam_top = 2;
    options.input_size = 64;
    ScenePredictor predictor(model, options, torch::kCPU);
    const auto predictions = predictor.predict(x, {cv::Size(80, 60), cv::Size(30, 40)});
    torch::NoGradGuard no_grad;
    const auto logits = arch == "sascene_resnet18"
                            ? model.forward(x, {}, models::Branches::kRgbOnly).logits
                            : model.forward(x).logits;
    const auto probabilities = torch::softmax(logits, 1);
    for (int64_t i = 0; i < 2; ++i) {
      const auto& p = predictions[static_cast<size_t>(i)];
      ASSERT_EQ(p.top_classes.size(), 7u);
      for (size_t k = 0; k < 7; ++k) {
        EXPECT_NEAR(p.top_probabilities[k], probabilities[i][p.top_classes[k]].item<float>(), 1e-6);
        if (k) {
          EXPECT_GE(p.top_probabilities[k - 1], p.top_probabilities[k]);
        }
      }
      ASSERT_EQ(p.activations.size(), 2u);
      EXPECT_EQ(p.activations[0].class_index, p.top_classes[0]);
      EXPECT_EQ(p.activations[0].heat.size(), i == 0 ? cv::Size(80, 60) : cv::Size(30, 40));
    }
  }
}

TEST(ScenePredictor, MapsOfANetworkWithoutGlobalPoolingAreAClearError) {
  for (const std::string arch : {"alexnet", "vgg16"}) {
    auto model = models::create_model(arch, 5);
    PredictOptions options;
    try {
      ScenePredictor predictor(model, options, torch::kCPU);
      FAIL() << arch << " accepted";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(arch + " has no classifier over globally averaged"),
                std::string::npos)
          << e.what();
    }
    // Without maps or attributes it still predicts.
    options.cam_top = 0;
    options.input_size = 224;
    ScenePredictor predictor(model, options, torch::kCPU);
    const auto p = predictor.predict(torch::randn({1, 3, 224, 224}), {cv::Size(224, 224)});
    EXPECT_EQ(p[0].top_classes.size(), 5u);
    EXPECT_TRUE(p[0].activations.empty());
  }
}

TEST(ScenePredictor, CropPreprocessIsResize256AndCentreCrop) {
  auto model = models::create_model("resnet18", 3);
  PredictOptions options;
  options.preprocess = PredictPreprocess::kCentreCrop;
  ScenePredictor crop(model, options, torch::kCPU);
  options.preprocess = PredictPreprocess::kSquash;
  ScenePredictor squash(model, options, torch::kCPU);
  cv::Mat rgb(300, 400, CV_8UC3);
  cv::randu(rgb, 0, 255);
  EXPECT_EQ(crop.preprocess(rgb).sizes(), torch::IntArrayRef({3, 224, 224}));
  EXPECT_EQ(squash.preprocess(rgb).sizes(), torch::IntArrayRef({3, 224, 224}));
  data::Views views;
  views.image = rgb;
  const auto expected = data::to_normalized_tensor(data::eval_transform(views, {256, 224}).image);
  EXPECT_TRUE(torch::equal(crop.preprocess(rgb), expected));
  EXPECT_FALSE(torch::equal(squash.preprocess(rgb), expected));
}

TEST(PredictOutput, MapFilesStayInsideTheOutputFolder) {
  EXPECT_EQ(map_file_name("a/abbey/00000001.jpg", 3, "abbey", "jpg"),
            fs::path("cam/a/abbey/00000001.3-abbey.jpg"));
  EXPECT_EQ(map_file_name("/a/abbey/1.jpg", 12, "apartment_building/outdoor", "png"),
            fs::path("cam/a/abbey/1.12-apartment_building-outdoor.png"));
  EXPECT_EQ(map_file_name("../../x.jpg", 0, "c", "jpg"), fs::path("cam/x.0-c.jpg"));
}

// --- the tool on a dataset split ---------------------------------------------------------

TEST(PredictTool, RunsOnADatasetSplitAndReportsAccuracy) {
  TempDir dir;
  eval::write_synth("places365", dir / "places", 3, 4, 64);
  auto model = models::create_model("resnet18", 3);
  models::CheckpointMeta meta;
  meta.class_names = {"x", "y", "z"};
  meta.input_size = 64;
  models::save_checkpoint(dir / "m.ckpt", model, meta);
  const auto r = run_command(tool_path("scenery-inspect") + " predict --inspect.checkpoint " +
                             (dir / "m.ckpt").string() + " --data.dataset places365 --data.root " +
                             (dir / "places").string() + " --data.split val --inspect.out " +
                             (dir / "o").string() + " --inspect.batch_size 5 --cam.top 1 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("top-1 "), std::string::npos) << r.output;
  const std::string jsonl = read_text(dir / "o" / "predictions.jsonl");
  const auto lines = std::count(jsonl.begin(), jsonl.end(), '\n');
  EXPECT_GT(lines, 0);
  EXPECT_NE(jsonl.find("\"label\":"), std::string::npos);
  EXPECT_EQ(jsonl.find("\"environment\""), std::string::npos);  // no IO file given
  EXPECT_NE(read_text(dir / "o" / "predict.json").find("\"images\": " + std::to_string(lines)),
            std::string::npos);
  // A missing input is a usage error, not a crash.
  const auto none = run_command(tool_path("scenery-inspect") + " predict --inspect.checkpoint " +
                                (dir / "m.ckpt").string() + " 2>&1");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("--inspect.input"), std::string::npos) << none.output;
}

}  // namespace
}  // namespace scenery::inspect
