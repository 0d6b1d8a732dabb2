// Inner-layer outputs by state-dict name: equal to the network's own paths to
// them (the CAM features, the Sequential prefix), before any later in-place ReLU.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/alexnet.h"
#include "models/layer_taps.h"
#include "models/registry.h"
#include "models/resnet.h"
#include "models/sascene.h"

namespace scenery::models {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(LayerTaps, ResNetBlocksAndStagesEqualTheNetworksOwnFeatures) {
  torch::manual_seed(1);
  auto model = create_model("resnet18", 7);
  model.eval();
  torch::NoGradGuard no_grad;
  const LayerTaps taps(model);
  const auto names = taps.names();
  for (const char* n : {"layer1.0", "layer1.1", "layer1", "layer3.1", "layer4"})
    EXPECT_TRUE(contains(names, n)) << n;
  // A stage is listed after its last block.
  EXPECT_LT(std::find(names.begin(), names.end(), "layer4.1") - names.begin(),
            std::find(names.begin(), names.end(), "layer4") - names.begin());
  const auto x = torch::randn({2, 3, 64, 64});
  const auto out = taps.run(x, {"layer4", "layer2", "layer4.1"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(torch::equal(out[0], model.pooled_classifier().features(x)));
  EXPECT_TRUE(torch::equal(out[0], out[2]));
  auto* net = dynamic_cast<ResNetImpl*>(model.module_ptr().get());
  const auto stages = net->stages(net->stem(x));
  EXPECT_TRUE(torch::equal(out[1], stages[1]));
  EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{2, 128, 8, 8}));
}

TEST(LayerTaps, SequentialLayersAreTappedBeforeTheInPlaceReLUThatFollows) {
  torch::manual_seed(2);
  auto model = create_model("alexnet", 5);
  model.eval();
  torch::NoGradGuard no_grad;
  const LayerTaps taps(model);
  auto* net = dynamic_cast<AlexNetImpl*>(model.module_ptr().get());
  const auto x = torch::randn({1, 3, 96, 96});
  const auto out = taps.run(x, {"features.0", "features"});
  // features.0 is the first convolution: its raw output has negative values.
  const auto conv = net->features[0]->as<torch::nn::Conv2d>()->forward(x);
  EXPECT_TRUE(torch::allclose(out[0], conv));
  EXPECT_LT(out[0].min().item<float>(), 0.f);
  EXPECT_TRUE(torch::allclose(out[1], net->features->forward(x)));
}

TEST(LayerTaps, UnknownLayerListsTheValidOnes) {
  auto model = create_model("resnet18", 3);
  const LayerTaps taps(model);
  try {
    taps.check({"layer4", "layer5"});
    FAIL() << "layer5 accepted";
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'layer5'"), std::string::npos) << what;
    EXPECT_NE(what.find("layer4.1"), std::string::npos) << what;
  }
  EXPECT_THROW(taps.check({}), ModelError);
}

TEST(LayerTaps, EveryOtherFamilyReachesItsLastBlock) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  {
    auto g = create_model("googlenet_places", 4);
    g.eval();
    const auto x = torch::randn({1, 3, 64, 64});
    EXPECT_TRUE(torch::allclose(LayerTaps(g).run(x, {"inception5b"})[0],
                                g.pooled_classifier().features(x)));
    EXPECT_TRUE(contains(LayerTaps(g).names(), "inception4e"));
  }
  {
    auto s = create_model("sascene_resnet18", 4);
    s.eval();
    const auto x = torch::randn({1, 3, 160, 160});
    EXPECT_TRUE(
        torch::allclose(LayerTaps(s).run(x, {"encoder4"})[0], s.pooled_classifier().features(x)));
  }
  {
    auto p = create_model("parsing_resnet18dilated_ppm", 150);
    p.eval();
    const auto names = LayerTaps(p).names();
    EXPECT_TRUE(contains(names, "encoder.layer4"));
    // Dilated: output stride 8.
    EXPECT_EQ(LayerTaps(p).run(torch::randn({1, 3, 64, 64}), {"encoder.layer4"})[0].size(2), 8);
  }
  {
    auto v = create_model("vgg16", 4);
    EXPECT_TRUE(contains(LayerTaps(v).names(), "features.28"));
  }
}

}  // namespace
}  // namespace scenery::models
