// Theoretical receptive fields from the layer chain, against the numbers of
// "Object Detectors Emerge in Deep Scene CNNs" (Table 2) and hand-computed ones.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/receptive_field.h"
#include "models/registry.h"

namespace scenery::models {
namespace {

TEST(ReceptiveField, PlacesAlexNetMatchesThePapersTable) {
  // pool1, pool2, conv4, pool5: 19, 67, 131, 195 (the paper's theoretical sizes).
  auto caffenet = create_model("caffenet", 5);
  EXPECT_EQ(receptive_field_of(caffenet, "features.2").size, 19);
  EXPECT_EQ(receptive_field_of(caffenet, "features.6").size, 67);
  EXPECT_EQ(receptive_field_of(caffenet, "features.10").size, 131);
  EXPECT_EQ(receptive_field_of(caffenet, "features.14").size, 195);
  EXPECT_EQ(receptive_field_of(caffenet, "features.14").jump, 32);
  // torchvision's AlexNet has the same geometry under other indices.
  auto alexnet = create_model("alexnet", 5);
  EXPECT_EQ(receptive_field_of(alexnet, "features.2").size, 19);
  EXPECT_EQ(receptive_field_of(alexnet, "features.5").size, 67);
  EXPECT_EQ(receptive_field_of(alexnet, "features.8").size, 131);
  EXPECT_EQ(receptive_field_of(alexnet, "features.12").size, 195);
  // Centres: conv1 (11 / 4, padding 2) puts cell 0 at pixel 5 - 2 = 3; the
  // unpadded 3 / 2 pool moves it one conv1 step on: 3 + 4 = 7.
  EXPECT_DOUBLE_EQ(receptive_field_of(alexnet, "features.0").start, 3.0);
  EXPECT_DOUBLE_EQ(receptive_field_of(alexnet, "features.2").start, 7.0);
  EXPECT_EQ(receptive_field_of(alexnet, "features.2").jump, 8);
}

TEST(ReceptiveField, ResNetBlocksByHand) {
  // conv1 7/2: 7; max-pool 3/2: 11 (jump 4); layer1: four 3x3 at jump 4: 43;
  // layer2: 3x3/2 at jump 4 then three at jump 8: 99; layer3: 115 + 3 * 32 = 211;
  // layer4: 243 + 3 * 64 = 435.
  auto r18 = create_model("resnet18", 5);
  EXPECT_EQ(receptive_field_of(r18, "maxpool").size, 11);
  EXPECT_EQ(receptive_field_of(r18, "layer1").size, 43);
  EXPECT_EQ(receptive_field_of(r18, "layer2").size, 99);
  EXPECT_EQ(receptive_field_of(r18, "layer3").size, 211);
  EXPECT_EQ(receptive_field_of(r18, "layer4").size, 435);
  EXPECT_EQ(receptive_field_of(r18, "layer4").jump, 32);
  // Every layer is padded by half its kernel: cell i stays centred on pixel i * jump.
  EXPECT_DOUBLE_EQ(receptive_field_of(r18, "layer4").start, 0.0);
  EXPECT_EQ(receptive_field_of(r18, "layer2.0").size, 67);  // block 0: 51 then 67
  // Without the stem max-pool (Places365 wideresnet18): 23, 51, 107, 219.
  auto wide = create_model("wideresnet18", 5);
  EXPECT_EQ(receptive_field_of(wide, "layer1").size, 23);
  EXPECT_EQ(receptive_field_of(wide, "layer4").size, 219);
  // Bottlenecks (stride on the 3x3): ResNet-50's layer4 sees 427 pixels.
  EXPECT_EQ(receptive_field_of(create_model("resnet50", 5), "layer4").size, 427);
  // VGG16: conv5_3 196, pool5 212.
  auto vgg = create_model("vgg16", 5);
  EXPECT_EQ(receptive_field_of(vgg, "features.28").size, 196);
  EXPECT_EQ(receptive_field_of(vgg, "features.30").size, 212);
}

TEST(ReceptiveField, UnknownLayersAndParallelBranchesAreClearErrors) {
  auto r18 = create_model("resnet18", 5);
  try {
    receptive_field_of(r18, "layer5");
    FAIL() << "found layer5";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("layer4.1.conv2"), std::string::npos) << e.what();
  }
  auto googlenet = create_model("googlenet_places", 5);
  EXPECT_THROW(layer_chain(googlenet), ModelError);
  // The chain skips the residual shortcuts.
  for (const auto& l : layer_chain(r18))
    EXPECT_EQ(l.name.find("downsample"), std::string::npos) << l.name;
}

}  // namespace
}  // namespace scenery::models
