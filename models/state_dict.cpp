// Matches state dicts to models and copies them in (models/state_dict.h):
// key normalisation, the fit checks and their error messages, the copy itself.
#include "models/state_dict.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace scenery::models {

// Distinct names: the library is built in unity batches (see CMakeLists.txt).
namespace {

// "module.conv1.weight" -> "conv1.weight"; "features.module.0.weight" -> "features.0.weight".
std::string strip_data_parallel(const std::string& key) {
  std::string out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t dot = key.find('.', start);
    if (dot == std::string::npos) dot = key.size();
    const std::string part = key.substr(start, dot - start);
    if (part != "module") {
      if (!out.empty()) out += '.';
      out += part;
    }
    start = dot + 1;
  }
  return out;
}

bool key_ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string list_state_keys(const std::vector<std::string>& keys) {
  constexpr size_t kShown = 12;
  std::vector<std::string> shown(keys.begin(), keys.begin() + std::min(keys.size(), kShown));
  std::string s = fmt::format("{}", fmt::join(shown, ", "));
  if (keys.size() > kShown) s += fmt::format(", ... ({} in all)", keys.size());
  return s;
}

}  // namespace

LoadReport load_state_dict(SceneModel& model, const StateDict& weights, LoadMode mode,
                           const std::string& source) {
  StateDict target = model.state_dict();
  std::map<std::string, torch::Tensor> incoming;
  std::vector<std::string> unexpected, mismatched, missing;
  LoadReport report;
  for (const auto& item : weights) {
    std::string key = item.key();
    if (!target.contains(key)) key = strip_data_parallel(key);
    if (!target.contains(key)) {
      // A different class count's head is not "unexpected" when fine-tuning.
      if (mode == LoadMode::kFineTune && model.is_head_parameter(key)) {
        report.skipped.push_back(key);
      } else {
        unexpected.push_back(item.key());
      }
      continue;
    }
    incoming[key] = item.value();
  }
  for (const auto& item : target) {
    const std::string& key = item.key();
    if (mode == LoadMode::kFineTune && model.is_head_parameter(key)) {
      if (incoming.count(key)) report.skipped.push_back(key);
      continue;
    }
    auto it = incoming.find(key);
    if (it == incoming.end()) {
      // Checkpoints from PyTorch < 0.4.1 (the 2017 Places365 releases) have no
      // BN batch counters; the counter only matters for momentum=None BN.
      if (!key_ends_with(key, "num_batches_tracked")) missing.push_back(key);
      continue;
    }
    if (it->second.sizes() != item.value().sizes()) {
      mismatched.push_back(fmt::format("{} (checkpoint {} vs model {})", key,
                                       fmt::join(it->second.sizes(), "x"),
                                       fmt::join(item.value().sizes(), "x")));
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = fmt::format("{} does not fit {} with {} classes:", source, model.arch(),
                                  model.num_classes());
    if (!missing.empty()) msg += fmt::format(" missing keys: {};", list_state_keys(missing));
    if (!unexpected.empty())
      msg += fmt::format(" unexpected keys: {};", list_state_keys(unexpected));
    if (!mismatched.empty())
      msg += fmt::format(" shape mismatches: {};", list_state_keys(mismatched));
    if (mode == LoadMode::kStrict && missing.empty() && unexpected.empty()) {
      msg += " (to fine-tune on a new class count, load in fine-tuning mode)";
    }
    throw CheckpointError(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& item : target) {
    auto it = incoming.find(item.key());
    if (it == incoming.end()) continue;
    if (mode == LoadMode::kFineTune && model.is_head_parameter(item.key())) continue;
    item.value().copy_(it->second);
    report.loaded.push_back(item.key());
  }
  if (!report.skipped.empty()) {
    log::info("{}: fine-tuning load skipped {} head keys: {}", source, report.skipped.size(),
              fmt::join(report.skipped, ", "));
  }
  return report;
}

LoadReport load_backbone_weights(SceneModel& model, const StateDict& weights,
                                 const std::string& source) {
  if (model.kind() == ModelKind::kClassifier) {
    return load_state_dict(model, weights, LoadMode::kFineTune, source);
  }
  auto rename = [&](const std::string& raw) -> std::string {
    const std::string key = strip_data_parallel(raw);
    if (key.rfind("fc.", 0) == 0) return "";
    if (model.kind() == ModelKind::kParsing) return "encoder." + key;
    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{"conv1.", "in_block.0."},
                                                          {"bn1.", "in_block.1."},
                                                          {"layer1.", "encoder1."},
                                                          {"layer2.", "encoder2."},
                                                          {"layer3.", "encoder3."},
                                                          {"layer4.", "encoder4."}}) {
      if (key.rfind(from, 0) == 0) return to + key.substr(from.size());
    }
    return key;
  };
  const StateDict target = model.state_dict();
  StateDict renamed;
  std::vector<std::string> unexpected, mismatched;
  for (const auto& item : weights) {
    const std::string key = rename(item.key());
    if (key.empty()) continue;
    const torch::Tensor* t = target.find(key);
    if (!t) {
      unexpected.push_back(item.key());
    } else if (t->sizes() != item.value().sizes()) {
      mismatched.push_back(fmt::format("{} -> {} ({} vs {})", item.key(), key,
                                       fmt::join(item.value().sizes(), "x"),
                                       fmt::join(t->sizes(), "x")));
    } else {
      renamed.insert(key, item.value());
    }
  }
  if (!unexpected.empty() || !mismatched.empty() || renamed.is_empty()) {
    throw CheckpointError(fmt::format(
        "{} is not a ResNet body for {}: unexpected keys: {}; shape mismatches: {}", source,
        model.arch(), list_state_keys(unexpected), list_state_keys(mismatched)));
  }
  LoadReport report;
  torch::NoGradGuard no_grad;
  for (const auto& item : renamed) {
    target.find(item.key())->copy_(item.value());
    report.loaded.push_back(item.key());
  }
  log::info("{}: initialised {} backbone tensors of {}", source, report.loaded.size(),
            model.arch());
  return report;
}

}  // namespace scenery::models
