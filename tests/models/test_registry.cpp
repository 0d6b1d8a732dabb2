// Registry, backbones, two-branch and parsing networks: names, parameter counts
// (torchvision's published numbers), output shapes and modes.
#include "models/registry.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/resnet.h"

namespace scenery::models {
namespace {

int64_t count_parameters(const SceneModel& m) {
  int64_t n = 0;
  for (const auto& p : m.named_parameters())
    n += p.value().numel();
  return n;
}

// Numbers printed by torchvision 0.14: sum(p.numel() for p in model.parameters()).
TEST(Backbones, ParameterCountsEqualTorchvisionForThousandClasses) {
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"resnet18", 11'689'512},    {"resnet34", 21'797'672},    {"resnet50", 25'557'032},
      {"resnet101", 44'549'160},   {"alexnet", 61'100'840},     {"vgg16", 138'357'544},
      {"densenet161", 28'681'000}, {"wideresnet18", 11'689'512}};
  for (const auto& [arch, count] : expected) {
    EXPECT_EQ(count_parameters(create_model(arch, 1000)), count) << arch;
  }
}

// BVLC CaffeNet / the Places-CNN AlexNet: 60,965,224 with 1,000 classes, by hand:
// conv 34,944 + 307,456 + 885,120 + 663,936 + 442,624 (groups halve conv2/4/5),
// fc 37,752,832 + 16,781,312 + 4,097,000.
TEST(Backbones, CaffeNetHasTheOriginalAlexNetParameterCount) {
  EXPECT_EQ(count_parameters(create_model("caffenet", 1000)), 60'965'224);
  auto m = create_model("caffenet", 5);
  m.eval();
  torch::NoGradGuard no_grad;
  for (int size : {227, 224})
    EXPECT_EQ(m.forward(torch::randn({1, 3, size, size})).logits.sizes(),
              (std::vector<int64_t>{1, 5}));
  EXPECT_THROW(m.forward(torch::randn({1, 3, 128, 128})), ModelError);
}

TEST(Backbones, Vgg16With365ClassesHasThePlacesParameterCount) {
  EXPECT_EQ(count_parameters(create_model("vgg16", 365)), 135'755'949);
  // BVLC GoogLeNet's deploy net (no auxiliary heads): 6,998,552 at 1000 classes.
  EXPECT_EQ(count_parameters(create_model("googlenet_places", 1000)), 6'998'552);
  EXPECT_EQ(count_parameters(create_model("googlenet_places", 365)), 6'347'677);
  EXPECT_EQ(count_parameters(create_model("resnet50", 365)), 24'255'917);
}

TEST(Backbones, ResNetNamesFollowTorchvisionIncludingBatchNormBuffers) {
  auto m = create_model("resnet50", 10);
  auto sd = m.state_dict();
  for (const char* key : {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                          "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var",
                          "layer4.2.conv3.weight", "layer4.2.bn3.weight", "fc.weight", "fc.bias"}) {
    EXPECT_TRUE(sd.contains(key)) << key;
  }
  EXPECT_EQ(sd.size(), 320u);  // len(torchvision.models.resnet50().state_dict())
}

TEST(Backbones, DenseNetAndAlexNetNamesFollowTorchvision) {
  auto d = create_model("densenet161", 5).state_dict();
  for (const char* key :
       {"features.conv0.weight", "features.norm0.running_mean",
        "features.denseblock1.denselayer1.norm1.weight",
        "features.denseblock3.denselayer36.conv2.weight", "features.transition3.conv.weight",
        "features.norm5.bias", "classifier.weight"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  auto a = create_model("alexnet", 5).state_dict();
  for (const char* key : {"features.0.weight", "features.10.bias", "classifier.1.weight",
                          "classifier.4.weight", "classifier.6.bias"}) {
    EXPECT_TRUE(a.contains(key)) << key;
  }
}

TEST(Backbones, ClassifiersGiveOneLogitPerClassAtSmallInputs) {
  torch::NoGradGuard no_grad;
  for (const char* arch :
       {"resnet18", "resnet34", "wideresnet18", "alexnet", "vgg16", "densenet161"}) {
    auto m = create_model(arch, 7);
    m.eval();
    auto out = m.forward(torch::randn({2, 3, 64, 64}));
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 7})) << arch;
    EXPECT_EQ(m.kind(), ModelKind::kClassifier);
  }
}

TEST(Backbones, WideResNet18KeepsLayer4AtFourteenAt224) {
  // The Places365 wideresnet18 has no max-pool: layer4 is 14x14 at 224 input.
  ResNetOptions o = resnet_options(18, 3);
  o.max_pool = false;
  ResNet net(o);
  net->eval();
  torch::NoGradGuard no_grad;
  auto stages = net->stages(net->stem(torch::randn({1, 3, 224, 224})));
  EXPECT_EQ(stages[3].size(2), 14);
}

TEST(Registry, UnknownArchListsTheKnownOnes) {
  try {
    create_model("resnet19", 10);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet19"), std::string::npos) << msg;
    for (const char* known :
         {"resnet18", "resnet34", "resnet50", "resnet101", "wideresnet18", "alexnet", "caffenet",
          "googlenet_places", "vgg16", "densenet161", "sascene_resnet18", "sascene_resnet50",
          "parsing_resnet18dilated_ppm", "parsing_resnet50dilated_ppm"}) {
      EXPECT_NE(msg.find(known), std::string::npos) << known;
    }
  }
  EXPECT_EQ(model_registry().names().size(), 14u);
  EXPECT_THROW(create_model("resnet18", 0), ModelError);
}

TEST(Registry, HeadParametersAreTheClassifierOnly) {
  auto m = create_model("resnet18", 10);
  EXPECT_TRUE(m.is_head_parameter("fc.weight"));
  EXPECT_FALSE(m.is_head_parameter("layer4.1.bn2.weight"));
  EXPECT_EQ(m.head_parameters().size(), 2u);
  EXPECT_EQ(m.head_parameters().size() + m.body_parameters().size(), m.named_parameters().size());
  auto v = create_model("vgg16", 10);
  EXPECT_TRUE(v.is_head_parameter("classifier.6.weight"));
  EXPECT_FALSE(v.is_head_parameter("classifier.3.weight"));
}

TEST(TwoBranch, GivesFusedAndAuxiliaryLogitsAndHasThePublishedParameterCount) {
  auto m = create_model("sascene_resnet18", 1055);
  EXPECT_EQ(m.kind(), ModelKind::kTwoBranch);
  EXPECT_EQ(m.semantic_channels(), 152);
  const int64_t n = count_parameters(m);
  std::printf("sascene_resnet18 (1055 classes): %lld parameters\n", static_cast<long long>(n));
  // Counted by hand from the published layer shapes (1055 ADE20K scene classes):
  //   ResNet-18 body without fc                  11,176,512
  //   semantic stem 152->64 7x7 + BN                476,800
  //   semantic blocks 64->128->256->512 (+BN, CA) 1,593,088
  //   fusion convs 2 x (512->512, 512->1024) + BN 14,161,920
  //   fc (1024), fc_RGB (512), fc_SEM (512)        2,163,805
  EXPECT_EQ(n, 29'572'125);
  m.eval();
  torch::NoGradGuard no_grad;
  auto images = torch::randn({2, 3, 224, 224});
  auto sem = torch::rand({2, 152, 224, 224});
  auto out = m.forward(images, sem);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 1055}));
  EXPECT_EQ(out.rgb_logits.sizes(), (std::vector<int64_t>{2, 1055}));
  EXPECT_EQ(out.sem_logits.sizes(), (std::vector<int64_t>{2, 1055}));

  // Single-branch modes answer with that branch's head and match the full pass.
  auto rgb = m.forward(images, {}, Branches::kRgbOnly);
  EXPECT_TRUE(torch::equal(rgb.logits, out.rgb_logits));
  EXPECT_FALSE(rgb.sem_logits.defined());
  auto s = m.forward({}, sem, Branches::kSemanticOnly);
  EXPECT_TRUE(torch::equal(s.logits, out.sem_logits));
  EXPECT_THROW(m.forward(images), ModelError);  // semantic map missing
}

TEST(TwoBranch, ResNet50VariantBuildsWith2048ChannelRgbFeatures) {
  auto m = create_model("sascene_resnet50", 10);
  auto sd = m.state_dict();
  EXPECT_EQ(sd["lastConvRGB1.0.weight"].size(1), 2048);
  EXPECT_EQ(sd["lastConvRGB1.0.weight"].size(0), 1024);
  EXPECT_EQ(sd["lastConvSEM1.0.weight"].size(0), 512);
  EXPECT_EQ(sd["fc_RGB.weight"].size(1), 2048);
  EXPECT_EQ(sd["in_block_sem.0.weight"].size(1), 152);
  EXPECT_TRUE(sd.contains("in_block_sem_1.ca.fc1.weight"));
  EXPECT_TRUE(sd.contains("in_block_sem_3.conv.weight"));
  std::printf("sascene_resnet50 (10 classes): %lld parameters\n",
              static_cast<long long>(count_parameters(m)));
}

TEST(Parsing, GivesFullResolutionLogitsAndAuxLogitsOnlyInTraining) {
  for (const char* arch : {"parsing_resnet18dilated_ppm", "parsing_resnet50dilated_ppm"}) {
    auto m = create_model(arch, 150);
    EXPECT_EQ(m.kind(), ModelKind::kParsing);
    m.train();
    auto out = m.forward(torch::randn({2, 3, 64, 80}));
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 150, 64, 80})) << arch;
    EXPECT_EQ(out.aux_logits.sizes(), (std::vector<int64_t>{2, 150, 64, 80})) << arch;
    m.eval();
    torch::NoGradGuard no_grad;
    auto eval_out = m.forward(torch::randn({1, 3, 64, 64}));
    EXPECT_FALSE(eval_out.aux_logits.defined());
  }
}

TEST(Parsing, EncoderHasOutputStrideEight) {
  ResNetOptions o = resnet_options(50, 1);
  o.with_head = false;
  o.dilate_layer3 = o.dilate_layer4 = true;
  ResNet net(o);
  net->eval();
  torch::NoGradGuard no_grad;
  auto stages = net->stages(net->stem(torch::randn({1, 3, 64, 64})));
  EXPECT_EQ(stages[2].size(2), 8);
  EXPECT_EQ(stages[3].size(2), 8);
  EXPECT_EQ(stages[3].size(1), 2048);
  // CSAIL's dilation pattern: the block that had the stride keeps the previous
  // dilation, the others take the new one.
  auto sd = net->named_modules();
  EXPECT_EQ(sd["layer4.0.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 2);
  EXPECT_EQ(sd["layer4.1.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 4);
  EXPECT_EQ(sd["layer3.0.conv2"]->as<torch::nn::Conv2d>()->options.dilation()->at(0), 1);
}

TEST(SceneModel, ChannelsLastGivesTheSameLogits) {
  auto m = create_model("resnet18", 5);
  m.eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 3, 64, 64});
  auto ref = m.forward(x).logits;
  m.to_channels_last();
  EXPECT_TRUE(
      m.named_parameters()["conv1.weight"].is_contiguous(torch::MemoryFormat::ChannelsLast));
  auto out = m.forward(x.contiguous(torch::MemoryFormat::ChannelsLast)).logits;
  EXPECT_LT((out - ref).abs().max().item<float>(), 1e-4);
}

TEST(SceneModel, ClassifierRejectsBranchSelection) {
  auto m = create_model("alexnet", 5);
  EXPECT_THROW(m.forward(torch::randn({1, 3, 64, 64}), {}, Branches::kRgbOnly), ModelError);
}

}  // namespace
}  // namespace scenery::models
