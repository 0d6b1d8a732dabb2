#include "core/config.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/error.h"
#include "support/test_support.h"

namespace scenery {
namespace {

using testing::TempDir;
using testing::write_text;

Config make_config() {
  Config c("test-tool", "config tests");
  for (const char* section : {"data", "model", "train", "eval", "dist"})
    c.section(section, std::string("[") + section + "] options");
  c.add<std::string>("data.dataset", "places365", "layout");
  c.add<int>("data.batch_size", 32, "batch");
  c.add<int64_t>("data.seed", 7, "seed");
  c.add<double>("train.lr", 0.1, "learning rate");
  c.add<bool>("train.nesterov", false, "nesterov");
  c.add<std::string>("train.run_dir", "runs/x", "run dir");
  c.add<std::string>("log-level", "info", "log level");
  return c;
}

std::string without_comments(const std::string& ini) {
  std::string out, line;
  std::istringstream in(ini);
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') out += line + "\n";
  }
  return out;
}

std::string expect_config_error(Config& c, const std::vector<std::string>& args) {
  try {
    c.parse(args);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.exit_code(), kExitUsage);
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(Config, DefaultsApplyWithoutFileOrFlags) {
  Config c = make_config();
  ASSERT_EQ(c.parse(std::vector<std::string>{}), ParseOutcome::kRun);
  EXPECT_EQ(c.get<int>("data.batch_size"), 32);
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr"), 0.1);
  EXPECT_FALSE(c.get<bool>("train.nesterov"));
  EXPECT_EQ(c.source("train.lr"), "default");
}

TEST(Config, FileOverridesDefaultsAndCommandLineOverridesFile) {
  TempDir dir;
  write_text(dir / "r.cfg",
             "# a recipe\n[data]\nbatch_size = 64   # inline comment\ndataset = sun397\n"
             "[train]\nlr = 0.01\nnesterov = yes\n");
  Config c = make_config();
  ASSERT_EQ(c.parse({"--config", (dir / "r.cfg").string(), "--train.lr", "0.5"}),
            ParseOutcome::kRun);
  EXPECT_EQ(c.get<int>("data.batch_size"), 64);
  EXPECT_EQ(c.get<std::string>("data.dataset"), "sun397");
  EXPECT_DOUBLE_EQ(c.get<double>("train.lr"), 0.5);
  EXPECT_TRUE(c.get<bool>("train.nesterov"));
  EXPECT_EQ(c.source("train.lr"), "command line");
  EXPECT_EQ(c.source("data.batch_size"), (dir / "r.cfg").string() + ":3");
  EXPECT_EQ(c.source("data.seed"), "default");
}

TEST(Config, CommandLineWinsWhateverTheArgumentOrder) {
  TempDir dir;
  write_text(dir / "r.cfg", "[data]\nbatch_size = 64\n");
  Config c = make_config();
  c.parse({"--data.batch_size=8", "--config", (dir / "r.cfg").string()});
  EXPECT_EQ(c.get<int>("data.batch_size"), 8);
}

TEST(Config, UnknownKeyInFileNamesKeyFileAndLine) {
  TempDir dir;
  write_text(dir / "bad.cfg", "[data]\nbatch_size = 4\n\n[train]\nlrr = 0.1\n");
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--config", (dir / "bad.cfg").string()});
  EXPECT_NE(msg.find((dir / "bad.cfg").string() + ":5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.lrr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'train.lr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.nesterov"), std::string::npos) << "lists valid keys: " << msg;
}

// A tool reading only [data] accepts a whole recipe: its other sections are
// skipped in files, while its own section stays checked.
TEST(Config, IgnoredSectionsOfAFileAreSkippedOthersStillChecked) {
  TempDir dir;
  write_text(dir / "recipe.cfg", "[data]\nbatch_size = 4\n\n[model]\narch = resnet18\n");
  Config c("tool", "reads [data]");
  c.add<int>("data.batch_size", 32, "batch");
  c.ignore_file_sections({"model", "train"});
  c.parse({"--config", (dir / "recipe.cfg").string()});
  EXPECT_EQ(c.get<int>("data.batch_size"), 4);
  write_text(dir / "typo.cfg", "[data]\nbatch_sise = 4\n");
  Config d("tool", "reads [data]");
  d.add<int>("data.batch_size", 32, "batch");
  d.ignore_file_sections({"model"});
  const std::string msg = expect_config_error(d, {"--config", (dir / "typo.cfg").string()});
  EXPECT_NE(msg.find("data.batch_sise"), std::string::npos) << msg;
}

TEST(Config, UnknownSectionListsValidSections) {
  TempDir dir;
  write_text(dir / "bad.cfg", "[trian]\nlr = 0.1\n");
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--config", (dir / "bad.cfg").string()});
  EXPECT_NE(msg.find(":1: unknown section [trian]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data, model, train, eval, dist"), std::string::npos) << msg;
}

TEST(Config, MalformedValueInFileNamesLineAndExpectedType) {
  TempDir dir;
  write_text(dir / "bad.cfg", "[data]\nbatch_size = many\n");
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--config", (dir / "bad.cfg").string()});
  EXPECT_NE(msg.find("bad.cfg:2: invalid value 'many' for data.batch_size: expected an integer"),
            std::string::npos)
      << msg;
}

TEST(Config, MalformedLinesAndDuplicatesAreRejected) {
  TempDir dir;
  Config c = make_config();
  write_text(dir / "a.cfg", "[data]\nbatch_size 4\n");
  EXPECT_NE(expect_config_error(c, {"--config", (dir / "a.cfg").string()})
                .find("a.cfg:2: expected 'key = value'"),
            std::string::npos);
  write_text(dir / "b.cfg", "batch_size = 4\n");
  EXPECT_NE(
      expect_config_error(c, {"--config", (dir / "b.cfg").string()}).find("before any section"),
      std::string::npos);
  write_text(dir / "c.cfg", "[data]\nbatch_size = 4\nbatch_size = 5\n");
  EXPECT_NE(expect_config_error(c, {"--config", (dir / "c.cfg").string()})
                .find("c.cfg:3: duplicate key 'data.batch_size' (first set on line 2)"),
            std::string::npos);
}

TEST(Config, MissingConfigFileIsAClearError) {
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--config", "/nonexistent/recipe.cfg"});
  EXPECT_NE(msg.find("config file '/nonexistent/recipe.cfg' does not exist"), std::string::npos)
      << msg;
}

TEST(Config, UnknownCommandLineOptionSuggestsTheClosestKey) {
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--data.batchsize", "3"});
  EXPECT_NE(msg.find("command line: unknown option 'data.batchsize'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'data.batch_size'"), std::string::npos) << msg;
}

TEST(Config, MalformedCommandLineValueIsAConfigError) {
  Config c = make_config();
  const std::string msg = expect_config_error(c, {"--train.lr", "fast"});
  EXPECT_NE(msg.find("fast"), std::string::npos) << msg;
}

TEST(Config, DumpRoundTripsToTheSameResolvedValues) {
  TempDir dir;
  write_text(dir / "r.cfg", "[data]\nbatch_size = 48\n[train]\nlr = 0.0123456789\n");
  Config first = make_config();
  first.parse({"--config", (dir / "r.cfg").string(), "--data.dataset", " spaced # name ",
               "--train.run_dir", "", "--data.seed", "-9000000000"});
  write_text(dir / "dumped.cfg", first.dump());

  Config second = make_config();
  ASSERT_EQ(second.parse({"--config", (dir / "dumped.cfg").string()}), ParseOutcome::kRun);
  EXPECT_EQ(second.get<int>("data.batch_size"), 48);
  EXPECT_EQ(second.get<double>("train.lr"), 0.0123456789);  // bit-exact
  EXPECT_EQ(second.get<std::string>("data.dataset"), " spaced # name ");
  EXPECT_EQ(second.get<std::string>("train.run_dir"), "");
  EXPECT_EQ(second.get<int64_t>("data.seed"), -9000000000LL);
  // Same values means the same dump once the recorded sources (comments) are set aside.
  EXPECT_EQ(without_comments(second.dump()), without_comments(first.dump()));
}

TEST(Config, DumpConfigAndHelpAreReported) {
  Config c = make_config();
  EXPECT_EQ(c.parse({"--dump-config"}), ParseOutcome::kDumpedConfig);
  EXPECT_EQ(c.parse({"--help"}), ParseOutcome::kPrintedHelp);
  const std::string help = c.help();
  EXPECT_LT(help.find("[data]"), help.find("[train]"));
  EXPECT_NE(help.find("--train.lr"), std::string::npos);
  EXPECT_NE(help.find("(=0.1)"), std::string::npos) << help;
  EXPECT_NE(help.find("learning rate"), std::string::npos);
}

TEST(Config, WriteResolvedPutsConfigIntoTheRunDirectory) {
  TempDir dir;
  Config c = make_config();
  c.parse({"--train.lr", "0.25"});
  const auto written = c.write_resolved(dir / "run" / "nested");
  EXPECT_EQ(written, dir / "run" / "nested" / "config.cfg");
  Config back = make_config();
  back.parse({"--config", written.string()});
  EXPECT_DOUBLE_EQ(back.get<double>("train.lr"), 0.25);
}

// The schema: what a value must be is declared with the option and checked
// wherever the value comes from, with one message shape.
Config make_schema_config() {
  Config c("test-tool", "schema tests");
  c.section("train", "[train] optimisation");
  c.add_choice("train.optimizer", "sgd", {"sgd", "adamw"}, "optimizer");
  c.add<int>("train.accumulate", 1, "steps per update", Bounds::at_least(1));
  c.add<double>("train.label_smoothing", 0, "smoothing", Bounds::from_up_to_excluding(0, 1));
  c.add_list<double>("train.crop_ratio", "3/4,4/3", "ratio range",
                     ListRule::range(Bounds::within(1e-3, 1e3)));
  c.add_list<double>("train.milestones", "30,60", "epochs",
                     ListRule::any_length(Bounds::at_least(0), ListOrder::kIncreasing));
  c.add_tristate("train.sync_bn", "sync batch norm");
  c.add<bool>("train.nesterov", false, "nesterov");
  return c;
}

TEST(ConfigSchema, DeclaredValuesAreReadBack) {
  Config c = make_schema_config();
  c.parse({"--train.optimizer", "adamw", "--train.accumulate=4", "--train.crop_ratio", "2/3, 1.5",
           "--train.milestones", "10"});
  EXPECT_EQ(c.get<std::string>("train.optimizer"), "adamw");
  EXPECT_EQ(c.get<int>("train.accumulate"), 4);
  EXPECT_EQ(c.get_list<double>("train.crop_ratio"), (std::vector<double>{2.0 / 3.0, 1.5}));
  EXPECT_EQ(c.get_list<double>("train.milestones"), (std::vector<double>{10}));
  EXPECT_EQ(c.get_tristate("train.sync_bn"), Tristate::kAuto);
  Config d = make_schema_config();
  d.parse({});
  EXPECT_EQ(d.get_list<double>("train.crop_ratio"), (std::vector<double>{0.75, 4.0 / 3.0}));
}

TEST(ConfigSchema, EveryRefusalHasOneShapeOnTheCommandLineAndInFiles) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--train.optimizer", "lamb"},
       "command line: invalid value 'lamb' for train.optimizer: expected one of sgd, adamw"},
      {{"--train.accumulate=0"},
       "command line: invalid value '0' for train.accumulate: expected an integer >= 1"},
      {{"--train.accumulate", "many"},
       "command line: invalid value 'many' for train.accumulate: expected an integer >= 1"},
      {{"--train.label_smoothing", "1"},
       "command line: invalid value '1' for train.label_smoothing: expected a number in [0, 1)"},
      {{"--train.crop_ratio", "2,1"},
       "command line: invalid value '2,1' for train.crop_ratio: expected 2 comma-separated "
       "numbers (a/b allowed) in [0.001, 1000], each >= the one before"},
      {{"--train.crop_ratio", "1"}, "invalid value '1' for train.crop_ratio"},
      {{"--train.crop_ratio", "a,2"}, "invalid value 'a,2' for train.crop_ratio"},
      {{"--train.milestones", "60,30"},
       "invalid value '60,30' for train.milestones: expected comma-separated numbers (a/b "
       "allowed) >= 0, in increasing order"},
      {{"--train.sync_bn", "maybe"},
       "command line: invalid value 'maybe' for train.sync_bn: expected auto, or a boolean"},
  };
  for (const auto& [args, expected] : cases) {
    Config c = make_schema_config();
    EXPECT_CONTAINS(expect_config_error(c, args), expected);
  }
  TempDir dir;
  write_text(dir / "bad.cfg", "[train]\naccumulate = 2\noptimizer = lamb\n");
  Config c = make_schema_config();
  EXPECT_CONTAINS(expect_config_error(c, {"--config", (dir / "bad.cfg").string()}),
                  (dir / "bad.cfg").string() +
                      ":3: invalid value 'lamb' for train.optimizer: expected one of sgd, adamw");
}

TEST(ConfigSchema, BooleansAndTristatesAcceptTheSameSpellings) {
  const std::vector<std::pair<std::string, bool>> spellings = {
      {"true", true},   {"yes", true}, {"1", true},  {"on", true},
      {"false", false}, {"no", false}, {"0", false}, {"off", false}};
  for (const auto& [text, value] : spellings) {
    Config c = make_schema_config();
    c.parse({"--train.nesterov", text, "--train.sync_bn", text});
    EXPECT_EQ(c.get<bool>("train.nesterov"), value) << text;
    EXPECT_EQ(c.get_tristate("train.sync_bn"), value ? Tristate::kYes : Tristate::kNo) << text;
    // The resolved configuration spells it one way.
    EXPECT_CONTAINS(c.dump(), value ? "sync_bn = yes" : "sync_bn = no");
  }
  EXPECT_TRUE(resolve(Tristate::kAuto, true));
  EXPECT_FALSE(resolve(Tristate::kNo, true));
}

TEST(ConfigSchema, SectionsAreTheDeclaredOnesInDeclaredOrder) {
  Config c = make_schema_config();
  c.section("data", "[data] where the images are");
  c.add<int>("data.batch_size", 8, "batch");
  const std::string help = c.help();
  EXPECT_CONTAINS(help, "[data] where the images are");
  EXPECT_LT(help.find("[train] optimisation"), help.find("[data] where"));
  TempDir dir;
  write_text(dir / "bad.cfg", "[inspect]\nbatch_size = 2\n");
  EXPECT_CONTAINS(expect_config_error(c, {"--config", (dir / "bad.cfg").string()}),
                  ":1: unknown section [inspect]; valid sections: train, data");
}

TEST(ConfigSchema, ADeclarationBreakingItsOwnRuleIsAProgrammingError) {
  Config c("test-tool", "schema tests");
  EXPECT_THROW(c.add_choice("train.x", "c", {"a", "b"}, "x"), std::logic_error);
  EXPECT_THROW(c.add<int>("train.y", 0, "y", Bounds::at_least(1)), std::logic_error);
  EXPECT_THROW(c.add_list<int>("train.z", "1,x", "z"), std::logic_error);
}

TEST(ConfigSchema, ListsAndChoicesConvertOutsideAConfigWithTheSameMessage) {
  EXPECT_EQ(parse_list<int>("k", " 1, 2 ,3", ListRule::any_length()), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(parse_list<std::string>("k", "layer4, layer3.1", ListRule::any_length()),
            (std::vector<std::string>{"layer4", "layer3.1"}));
  try {
    parse_list<int>("k", "1,,2", ListRule::any_length());
    ADD_FAILURE() << "an empty item was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid value '1,,2' for k: expected comma-separated integers");
  }
  enum class Kind { kA, kB };
  const Choices<Kind> kinds{{"a", Kind::kA}, {"b", Kind::kB}};
  EXPECT_EQ(kinds.at("k", "b"), Kind::kB);
  EXPECT_EQ(kinds.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(kinds.at("k", "c"), ConfigError);
}

}  // namespace
}  // namespace scenery
