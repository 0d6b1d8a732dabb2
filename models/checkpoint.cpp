// The checkpoint file format (models/checkpoint.h): encoding to and decoding
// from torch's pickle dicts, atomic writes, reading the foreign layouts, and
// load_checkpoint (read + the arch check + models/state_dict.h's load).
#include "models/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <fmt/core.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <fstream>
#include <iterator>

#include "core/atomic_file.h"
#include "core/error.h"

namespace scenery::models {
namespace fs = std::filesystem;
using c10::IValue;
using GenericDict = c10::Dict<IValue, IValue>;

namespace {

constexpr const char* kFormat = "scenery-checkpoint";
constexpr int64_t kVersion = 1;

torch::Tensor to_cpu(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU).contiguous();
}

GenericDict tensor_dict(const StateDict& tensors) {
  GenericDict d(c10::StringType::get(), c10::TensorType::get());
  for (const auto& item : tensors)
    d.insert(item.key(), to_cpu(item.value()));
  return d;
}

// A plain list: typed lists of numbers pickle as torch.jit._pickle.build_doublelist /
// build_intlist calls, which torch.load(weights_only=True) refuses.
template <class T>
c10::impl::GenericList to_list(const std::vector<T>& v) {
  c10::impl::GenericList out(c10::AnyType::get());
  for (const auto& x : v)
    out.push_back(IValue(x));
  return out;
}

// torch.save's zip layout (data.pkl + data/<storage>), with a pickle made of
// what torch.load(path, weights_only=True) accepts: plain dicts and lists,
// strings, numbers and tensors (torch._utils._rebuild_tensor_v2 over storages).
// torch::pickle_save would wrap every dict and list in a
// torch.jit._pickle.restore_type_tag call (TorchScript's dynamic types), which
// PyTorch >= 2.6 refuses by default; the untagged dicts read back the same here.
std::vector<char> pickle_for_torch_load(const IValue& root) {
  std::vector<char> pickle;
  torch::jit::Pickler pickler(
      [&](const char* bytes, size_t size) { pickle.insert(pickle.end(), bytes, bytes + size); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(root);
  pickler.stop();
  std::vector<char> archive;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    archive.insert(archive.end(), bytes, bytes + size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(),
                                     writer);
  writer.writeEndOfFile();
  return archive;
}

IValue encode_training(const TrainingState& t) {
  GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("optimizer", t.optimizer);
  GenericDict opt(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [name, slots] : t.optimizer_state) {
    GenericDict s(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [key, tensor] : slots)
      s.insert(key, to_cpu(tensor));
    opt.insert(name, s);
  }
  d.insert("optimizer_state", opt);
  GenericDict sched(c10::StringType::get(), c10::FloatType::get());
  for (const auto& [key, value] : t.scheduler)
    sched.insert(key, value);
  d.insert("scheduler", sched);
  d.insert("epoch", t.epoch);
  d.insert("iteration", t.iteration);
  if (t.rng_state.defined()) d.insert("rng_state", to_cpu(t.rng_state));
  if (t.rank_rng_states.defined()) d.insert("rank_rng_states", to_cpu(t.rank_rng_states));
  d.insert("world_size", t.world_size);
  if (!t.init_weights.empty()) {
    d.insert("init_weights", t.init_weights);
    d.insert("init_weights_sha256", t.init_weights_sha256);
  }
  if (!t.ema_state.is_empty()) {
    GenericDict ema(c10::StringType::get(), c10::TensorType::get());
    for (const auto& item : t.ema_state)
      ema.insert(item.key(), to_cpu(item.value()));
    d.insert("ema_state", ema);
  }
  return d;
}

// Accessors that say which key of which file was wrong.
struct DictReader {
  const GenericDict& dict;
  const std::string& where;

  bool has(const std::string& key) const { return dict.contains(key); }
  const IValue& at(const std::string& key) const {
    auto it = dict.find(key);
    if (it == dict.end()) throw CheckpointError(fmt::format("{}: missing key '{}'", where, key));
    return it->value();
  }
  [[noreturn]] void bad(const std::string& key, const char* expected) const {
    throw CheckpointError(
        fmt::format("{}: key '{}' is not {} (got {})", where, key, expected, at(key).tagKind()));
  }
  std::string str(const std::string& key) const {
    if (!at(key).isString()) bad(key, "a string");
    return at(key).toStringRef();
  }
  int64_t integer(const std::string& key) const {
    if (!at(key).isInt()) bad(key, "an integer");
    return at(key).toInt();
  }
  std::vector<double> doubles(const std::string& key) const {
    if (!at(key).isList()) bad(key, "a list of numbers");
    std::vector<double> out;
    for (const IValue& v : at(key).toListRef()) {
      if (!v.isDouble() && !v.isInt()) bad(key, "a list of numbers");
      out.push_back(v.isDouble() ? v.toDouble() : static_cast<double>(v.toInt()));
    }
    return out;
  }
  std::vector<std::string> strings(const std::string& key) const {
    if (!at(key).isList()) bad(key, "a list of strings");
    std::vector<std::string> out;
    for (const IValue& v : at(key).toListRef()) {
      if (!v.isString()) bad(key, "a list of strings");
      out.push_back(v.toStringRef());
    }
    return out;
  }
  GenericDict dict_at(const std::string& key) const {
    if (!at(key).isGenericDict()) bad(key, "a dict");
    return at(key).toGenericDict();
  }
};

StateDict decode_tensors(const GenericDict& d, const std::string& where) {
  StateDict out;
  for (const auto& item : d) {
    if (!item.key().isString() || !item.value().isTensor()) {
      throw CheckpointError(
          fmt::format("{}: a state dict maps names to tensors, found a {} -> {} entry", where,
                      item.key().tagKind(), item.value().tagKind()));
    }
    out.insert(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

TrainingState decode_training(const GenericDict& d, const std::string& where) {
  DictReader r{d, where};
  TrainingState t;
  t.optimizer = r.str("optimizer");
  for (const auto& item : r.dict_at("optimizer_state")) {
    auto& slots = t.optimizer_state[item.key().toStringRef()];
    for (const auto& s : item.value().toGenericDict()) {
      slots[s.key().toStringRef()] = s.value().toTensor();
    }
  }
  for (const auto& item : r.dict_at("scheduler")) {
    const IValue& v = item.value();
    t.scheduler[item.key().toStringRef()] = v.isDouble() ? v.toDouble() : v.toInt();
  }
  t.epoch = r.integer("epoch");
  t.iteration = r.integer("iteration");
  if (r.has("rng_state")) t.rng_state = r.at("rng_state").toTensor();
  if (r.has("rank_rng_states")) t.rank_rng_states = r.at("rank_rng_states").toTensor();
  if (r.has("world_size")) t.world_size = r.integer("world_size");
  if (r.has("init_weights")) {
    t.init_weights = r.str("init_weights");
    t.init_weights_sha256 = r.str("init_weights_sha256");
  }
  if (r.has("ema_state")) t.ema_state = decode_tensors(r.dict_at("ema_state"), where);
  return t;
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: cannot open checkpoint", path.string()));
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void save_checkpoint(const fs::path& path, const Checkpoint& c) {
  GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("format", std::string(kFormat));
  d.insert("version", kVersion);
  d.insert("arch", c.meta.arch);
  d.insert("num_classes", c.meta.num_classes);
  d.insert("class_names", to_list(c.meta.class_names));
  d.insert("input_mean", to_list(c.meta.input_mean));
  d.insert("input_std", to_list(c.meta.input_std));
  d.insert("input_size", c.meta.input_size);
  d.insert("state_dict", tensor_dict(c.state_dict));
  if (c.training) d.insert("training", encode_training(*c.training));
  const std::vector<char> bytes = pickle_for_torch_load(d);
  try {
    // The system's reason (ENOSPC, EIO, ...) reaches the message.
    write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format("{}: cannot save checkpoint: {}", path.string(), e.what()));
  }
}

void save_checkpoint(const fs::path& path, const SceneModel& model, CheckpointMeta meta,
                     const TrainingState* training) {
  Checkpoint c;
  meta.arch = model.arch();
  meta.num_classes = model.num_classes();
  c.meta = std::move(meta);
  c.state_dict = model.state_dict();
  if (training) c.training = *training;
  save_checkpoint(path, c);
}

Checkpoint read_checkpoint(const fs::path& path) {
  const std::string where = path.string();
  const std::vector<char> bytes = read_bytes(path);
  // Zip archives (what torch.save and pickle_save write since PyTorch 1.6) start with "PK".
  if (bytes.size() < 4 || bytes[0] != 'P' || bytes[1] != 'K') {
    throw CheckpointError(fmt::format(
        "{}: not a zip-format torch file (a legacy torch pickle, e.g. an official Places365 "
        ".pth.tar?). Convert it with: /usr/bin/python3 scripts/convert_places365_checkpoint.py "
        "IN OUT",
        where));
  }
  IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    // The full LibTorch message carries a C++ backtrace; its first line says enough.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw CheckpointError(fmt::format(
        "{}: cannot unpickle ({}). Files from torch.save(model.state_dict()) (an OrderedDict) "
        "are not readable by LibTorch: convert with /usr/bin/python3 "
        "scripts/convert_places365_checkpoint.py IN OUT, or save dict(model.state_dict())",
        where, what));
  }
  if (!root.isGenericDict()) {
    throw CheckpointError(
        fmt::format("{}: expected a dict at top level, got {}", where, root.tagKind()));
  }
  const GenericDict dict = root.toGenericDict();
  DictReader r{dict, where};
  Checkpoint c;
  if (r.has("format") && r.str("format") == kFormat) {
    const int64_t version = r.integer("version");
    if (version > kVersion) {
      throw CheckpointError(fmt::format("{}: checkpoint version {} is newer than this build ({})",
                                        where, version, kVersion));
    }
    c.meta.arch = r.str("arch");
    c.meta.num_classes = r.integer("num_classes");
    c.meta.class_names = r.strings("class_names");
    c.meta.input_mean = r.doubles("input_mean");
    c.meta.input_std = r.doubles("input_std");
    c.meta.input_size = r.integer("input_size");
    c.state_dict = decode_tensors(r.dict_at("state_dict"), where);
    if (r.has("training")) c.training = decode_training(r.dict_at("training"), where);
  } else if (r.has("state_dict")) {
    // {'state_dict': ..., 'arch': ...} wrappers (Places365 releases after conversion).
    c.state_dict = decode_tensors(r.dict_at("state_dict"), where);
    if (r.has("arch") && r.at("arch").isString()) c.meta.arch = r.str("arch");
  } else {
    c.state_dict = decode_tensors(dict, where);
  }
  return c;
}

Checkpoint load_checkpoint(const fs::path& path, SceneModel& model, LoadMode mode) {
  Checkpoint c = read_checkpoint(path);
  // resnet18 and wideresnet18 share every key and shape, so the recorded arch
  // is checked as well as the keys.
  const bool other_arch = !c.meta.arch.empty() && c.meta.arch != model.arch();
  const std::string source =
      other_arch ? fmt::format("{} (saved from arch '{}')", path.string(), c.meta.arch)
                 : path.string();
  load_state_dict(model, c.state_dict, mode, source);
  if (other_arch && mode == LoadMode::kStrict) {
    throw CheckpointError(fmt::format("{}: checkpoint is for arch '{}', the model is '{}'",
                                      path.string(), c.meta.arch, model.arch()));
  }
  return c;
}

}  // namespace scenery::models
