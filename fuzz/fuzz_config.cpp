// fuzz_config: an INI --config file (sections, keys, values, comments) read
// against a schema with every kind of option rule: bounded numbers, choices,
// comma lists (fractions allowed), tristates, booleans and free text. Any
// input either parses or throws ConfigError.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/config.h"
#include "core/error.h"

namespace {

const std::string& config_file() {
  static const std::string path = "/tmp/scenery-fuzz-config-" + std::to_string(::getpid()) + ".cfg";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scenery;
  if (std::FILE* f = std::fopen(config_file().c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  Config c("fuzz", "every kind of option");
  c.section("data", "[data]");
  c.add<int>("data.batch_size", 32, "int", Bounds::at_least(1));
  c.add<double>("data.hue", 0.0, "bounded double", Bounds::within(0, 0.5));
  c.add<int64_t>("data.seed", 0, "int64");
  c.add<std::string>("data.root", "", "text");
  c.add<bool>("data.large", false, "bool");
  c.add_choice("data.dataset", "places365", {"places365", "ade20k", "webdataset"}, "choice");
  c.add_list<double>("data.crop_scale", "0.08,1", "range",
                     ListRule::range(Bounds::within(1e-6, 1.0)));
  c.add_list<int>("data.threads", "1,2", "list", ListRule::any_length(Bounds::at_least(1)));
  c.section("train", "[train]");
  c.add_tristate("train.resume", "tristate");
  c.ignore_file_sections({"model"});
  try {
    c.parse(std::vector<std::string>{"--config", config_file()});
  } catch (const ConfigError&) {
  }
  return 0;
}
