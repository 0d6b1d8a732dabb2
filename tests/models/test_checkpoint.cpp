// Checkpoints: exact round trip, atomic writes, key diagnostics, fine-tuning
// loads, optimizer/RNG state for resuming, and files Python reads and writes.
#include "models/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>

#include "core/error.h"
#include "models/models_test_util.h"
#include "models/optimizer_state.h"
#include "models/registry.h"

namespace scenery::models {
namespace {
namespace fs = std::filesystem;
using namespace testutil;
using scenery::testing::TempDir;

CheckpointMeta some_meta() {
  CheckpointMeta meta;
  meta.class_names = {"airfield", "apartment_building-outdoor", "zen_garden"};
  meta.input_mean = {0.5, 0.25, 0.125};
  meta.input_std = {0.2, 0.3, 0.4};
  meta.input_size = 128;
  return meta;
}

void write_pickle(const fs::path& path, const c10::IValue& value) {
  auto bytes = torch::pickle_save(value);
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
}

TEST(Checkpoint, SaveLoadRoundTripReproducesOutputsAndMetadataExactly) {
  TempDir dir;
  torch::manual_seed(3);
  for (const char* arch : {"resnet18", "parsing_resnet18dilated_ppm"}) {
    auto a = create_model(arch, 3);
    auto x = torch::randn({2, 3, 64, 64});
    a.train();
    a.forward(x);  // moves BN running statistics away from their defaults
    save_checkpoint(dir / "a.ckpt", a, some_meta());
    auto b = create_model(arch, 3);
    Checkpoint c = load_checkpoint(dir / "a.ckpt", b);
    EXPECT_TRUE(torch::equal(eval_logits(a, x), eval_logits(b, x))) << arch;
    EXPECT_EQ(c.meta.arch, arch);
    EXPECT_EQ(c.meta.num_classes, 3);
    EXPECT_EQ(c.meta.class_names, some_meta().class_names);
    EXPECT_EQ(c.meta.input_mean, some_meta().input_mean);
    EXPECT_EQ(c.meta.input_std, some_meta().input_std);
    EXPECT_EQ(c.meta.input_size, 128);
    EXPECT_FALSE(c.training.has_value());
  }
}

TEST(Checkpoint, TwoBranchRoundTripReproducesAllThreeOutputs) {
  TempDir dir;
  auto a = create_model("sascene_resnet18", 4);
  save_checkpoint(dir / "s.ckpt", a, {});
  auto b = create_model("sascene_resnet18", 4);
  load_checkpoint(dir / "s.ckpt", b);
  a.eval();
  b.eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({1, 3, 160, 160});  // the unpadded fusion convs need >= 160 px
  auto s = torch::rand({1, 152, 160, 160});
  auto oa = a.forward(x, s), ob = b.forward(x, s);
  EXPECT_TRUE(torch::equal(oa.logits, ob.logits));
  EXPECT_TRUE(torch::equal(oa.rgb_logits, ob.rgb_logits));
  EXPECT_TRUE(torch::equal(oa.sem_logits, ob.sem_logits));
}

TEST(Checkpoint, InterruptedWriteLeavesThePreviousCheckpointIntact) {
  TempDir dir;
  auto small = create_model("resnet18", 3);
  save_checkpoint(dir / "last.ckpt", small, some_meta());
  const auto before = fs::file_size(dir / "last.ckpt");

  // A file-size limit makes the write fail half-way, as a full disk would.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit limit = old;
  limit.rlim_cur = 1 << 20;
  setrlimit(RLIMIT_FSIZE, &limit);
  auto big = create_model("resnet50", 3);
  EXPECT_THROW(save_checkpoint(dir / "last.ckpt", big, some_meta()), CheckpointError);
  setrlimit(RLIMIT_FSIZE, &old);

  EXPECT_EQ(fs::file_size(dir / "last.ckpt"), before);
  auto again = create_model("resnet18", 3);
  EXPECT_NO_THROW(load_checkpoint(dir / "last.ckpt", again));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path()))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temp file left behind
}

std::string load_error(const fs::path& file, SceneModel& model, LoadMode mode = LoadMode::kStrict) {
  try {
    load_checkpoint(file, model, mode);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, WrongClassCountOrArchFailsListingTheKeys) {
  TempDir dir;
  save_checkpoint(dir / "r18.ckpt", create_model("resnet18", 10), {});

  auto five = create_model("resnet18", 5);
  std::string msg = load_error(dir / "r18.ckpt", five);
  EXPECT_NE(msg.find("shape mismatches: fc.weight (checkpoint 10x512 vs model 5x512)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("fc.bias"), std::string::npos) << msg;

  auto r34 = create_model("resnet34", 10);
  msg = load_error(dir / "r18.ckpt", r34);
  EXPECT_NE(msg.find("missing keys: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer1.2.conv1.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("saved from arch 'resnet18'"), std::string::npos) << msg;

  auto alex = create_model("alexnet", 10);
  msg = load_error(dir / "r18.ckpt", alex);
  EXPECT_NE(msg.find("unexpected keys: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("features.0.weight"), std::string::npos) << msg;

  // Same keys and shapes, different network: the recorded arch decides.
  auto wide = create_model("wideresnet18", 10);
  msg = load_error(dir / "r18.ckpt", wide);
  EXPECT_NE(msg.find("arch 'resnet18'"), std::string::npos) << msg;
}

TEST(Checkpoint, FineTuneLoadSkipsOnlyTheClassifierHead) {
  TempDir dir;
  auto source = create_model("resnet18", 365);
  save_checkpoint(dir / "places.ckpt", source, {});
  auto target = create_model("resnet18", 67);
  const auto fresh_fc = target.named_parameters()["fc.weight"].clone();
  load_checkpoint(dir / "places.ckpt", target, LoadMode::kFineTune);
  EXPECT_TRUE(torch::equal(target.named_parameters()["layer4.1.conv2.weight"],
                           source.named_parameters()["layer4.1.conv2.weight"]));
  EXPECT_TRUE(torch::equal(target.named_parameters()["fc.weight"], fresh_fc));

  Checkpoint c = read_checkpoint(dir / "places.ckpt");
  auto again = create_model("resnet18", 67);
  LoadReport r = load_state_dict(again, c.state_dict, LoadMode::kFineTune);
  std::sort(r.skipped.begin(), r.skipped.end());
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  EXPECT_EQ(r.loaded.size(), c.state_dict.size() - 2);

  // Fine-tuning is no licence for a different body.
  auto r34 = create_model("resnet34", 67);
  EXPECT_FALSE(load_error(dir / "places.ckpt", r34, LoadMode::kFineTune).empty());
}

TEST(Checkpoint, DataParallelPrefixesAndMissingBatchCountersAreAccepted) {
  auto a = create_model("alexnet", 4);
  StateDict prefixed;
  for (const auto& item : a.state_dict()) {
    std::string key = item.key();
    // Places365's alexnet: DataParallel wrapped only the features.
    if (key.rfind("features.", 0) == 0) key = "features.module." + key.substr(9);
    prefixed.insert(key, item.value().clone());
  }
  auto b = create_model("alexnet", 4);
  EXPECT_EQ(load_state_dict(b, prefixed).loaded.size(), a.state_dict().size());

  auto r = create_model("resnet18", 4);
  StateDict old_style;  // PyTorch < 0.4.1 files: no num_batches_tracked, "module." prefix
  for (const auto& item : r.state_dict()) {
    if (item.key().find("num_batches_tracked") == std::string::npos) {
      old_style.insert("module." + item.key(), item.value().clone());
    }
  }
  auto r2 = create_model("resnet18", 4);
  EXPECT_NO_THROW(load_state_dict(r2, old_style));
}

TEST(Checkpoint, BackboneWeightsInitialiseTwoBranchAndParsingEncoders) {
  auto places = create_model("resnet18", 365);
  const auto weights = places.state_dict();

  auto sas = create_model("sascene_resnet18", 1055);
  auto r = load_backbone_weights(sas, weights);
  EXPECT_EQ(r.loaded.size(), weights.size() - 2);  // all but fc.weight / fc.bias
  EXPECT_TRUE(torch::equal(sas.state_dict()["in_block.0.weight"], weights["conv1.weight"]));
  EXPECT_TRUE(torch::equal(sas.state_dict()["encoder4.1.bn2.running_var"],
                           weights["layer4.1.bn2.running_var"]));

  auto parsing = create_model("parsing_resnet18dilated_ppm", 150);
  r = load_backbone_weights(parsing, weights);
  EXPECT_EQ(r.loaded.size(), weights.size() - 2);
  EXPECT_TRUE(torch::equal(parsing.state_dict()["encoder.layer3.1.conv2.weight"],
                           weights["layer3.1.conv2.weight"]));

  // A ResNet-50 body does not fit a ResNet-18 encoder.
  auto wrong = create_model("parsing_resnet18dilated_ppm", 150);
  EXPECT_THROW(load_backbone_weights(wrong, create_model("resnet50", 10).state_dict()),
               CheckpointError);
}

TEST(Checkpoint, LegacyTorchPickleIsRefusedWithTheConverterNamed) {
  TempDir dir;
  scenery::testing::write_text(dir / "old.pth.tar", std::string("\x80\x02\x8a\x0a", 4) + "rest");
  try {
    read_checkpoint(dir / "old.pth.tar");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("convert_places365_checkpoint.py"), std::string::npos);
  }
}

// Runs one training step and returns the parameters afterwards.
void sgd_like_step(SceneModel& m, torch::optim::Optimizer& opt, const torch::Tensor& x) {
  m.train();
  opt.zero_grad();
  auto loss = torch::nn::functional::cross_entropy(m.forward(x).logits, torch::tensor({0, 1}));
  loss.backward();
  opt.step();
}

TEST(Checkpoint, OptimizerStateByNameAndRngStateResumeExactly) {
  TempDir dir;
  const auto x = torch::randn({2, 3, 48, 48});
  for (const std::string kind : {"sgd", "adamw"}) {
    torch::manual_seed(11);
    auto a = create_model("resnet18", 2);
    auto make = [&](SceneModel& m) -> std::unique_ptr<torch::optim::Optimizer> {
      if (kind == "sgd") {
        return std::make_unique<torch::optim::SGD>(
            params_of(m), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-4));
      }
      return std::make_unique<torch::optim::AdamW>(params_of(m), torch::optim::AdamWOptions(1e-3));
    };
    auto opt_a = make(a);
    sgd_like_step(a, *opt_a, x);

    TrainingState t;
    t.optimizer = optimizer_name(*opt_a);
    t.optimizer_state = export_optimizer_state(*opt_a, a.named_parameters());
    t.scheduler = {{"last_epoch", 4}, {"base_lr", 0.05}};
    t.epoch = 4;
    t.iteration = 1234;
    t.rng_state = cpu_rng_state();
    save_checkpoint(dir / "resume.ckpt", a, some_meta(), &t);
    const auto draw = torch::rand({4});

    // Resume in a "new process": fresh model and optimizer from the file.
    auto b = create_model("resnet18", 2);
    Checkpoint c = load_checkpoint(dir / "resume.ckpt", b);
    ASSERT_TRUE(c.training.has_value());
    EXPECT_EQ(c.training->optimizer, kind);
    EXPECT_EQ(c.training->epoch, 4);
    EXPECT_EQ(c.training->iteration, 1234);
    EXPECT_EQ(c.training->scheduler.at("base_lr"), 0.05);
    EXPECT_TRUE(c.training->optimizer_state.count("layer1.0.conv1.weight"));
    auto opt_b = make(b);
    import_optimizer_state(*opt_b, b.named_parameters(), c.training->optimizer_state);
    set_cpu_rng_state(c.training->rng_state);
    EXPECT_TRUE(torch::equal(torch::rand({4}), draw));

    sgd_like_step(a, *opt_a, x);
    sgd_like_step(b, *opt_b, x);
    for (const auto& p : a.named_parameters()) {
      EXPECT_TRUE(torch::equal(p.value(), b.named_parameters()[p.key()])) << kind << " " << p.key();
    }
  }
}

TEST(Checkpoint, PythonTorchLoadReadsItAndLoadsStrictIntoTorchvision) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  std::string args;
  const std::vector<std::string> archs = {"resnet18", "wideresnet18", "alexnet", "densenet161"};
  for (const auto& arch : archs) {
    auto m = create_model(arch, 5);
    auto x = torch::randn({1, 3, 64, 64});
    m.train();
    m.forward(x);
    TrainingState t;
    t.optimizer = "sgd";
    t.epoch = 2;
    t.iteration = 99;
    t.rng_state = cpu_rng_state();
    const fs::path ckpt = dir / (arch + ".ckpt"), io_file = dir / (arch + ".io.pt");
    save_checkpoint(ckpt, m, some_meta(), &t);
    c10::Dict<std::string, torch::Tensor> io;
    io.insert("input", x);
    io.insert("logits", eval_logits(m, x));
    write_pickle(io_file, io);
    args += " " + ckpt.string() + " " + io_file.string();
  }
  const std::string out = run_reference("check" + args);  // one Python start for all
  for (const auto& arch : archs) {
    EXPECT_NE(out.find(arch + ": strict load OK"), std::string::npos) << arch << ": " << out;
  }
}

TEST(Checkpoint, ReadsTorchSaveOfAPlainStateDictAndPointsOrderedDictsToTheConverter) {
  SCENERY_REQUIRE_TORCHVISION();
  TempDir dir;
  const std::string file = (dir / "sd.pt").string();
  run_reference("state_dict " + file + " resnet18");
  auto m = create_model("resnet18", 10);
  load_checkpoint(file + ".plain", m);  // torch.save(dict(model.state_dict()))
  const auto io = load_pickle(file + ".io");
  EXPECT_LE(max_abs_diff(eval_logits(m, tensor_at(io, "input")), tensor_at(io, "logits")), 1e-5);

  // torch.save(model.state_dict()) pickles an OrderedDict with a _metadata
  // attribute, which LibTorch 1.13's unpickler can not rebuild.
  try {
    load_checkpoint(file, m);
    std::printf("note: this LibTorch reads torch.save(model.state_dict()) directly\n");
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("convert_places365_checkpoint.py"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace scenery::models
