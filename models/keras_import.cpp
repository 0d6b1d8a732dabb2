#include "models/keras_import.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"

#ifdef SCENERY_HAVE_HDF5
#include <hdf5.h>
#endif

namespace scenery::models {
namespace fs = std::filesystem;

#ifdef SCENERY_HAVE_HDF5
namespace {

// Closes an HDF5 identifier when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

struct KerasFile {
  std::string path;
  std::unique_ptr<Handle> file;
  hid_t weights_root = -1;  // "/" (save_weights) or "/model_weights" (save)
  std::unique_ptr<Handle> model_weights;
};

[[noreturn]] void fail(const std::string& file, const std::string& message) {
  throw CheckpointError(fmt::format("{}: {}", file, message));
}

// A string or string-array attribute (fixed-length or variable-length, as h5py
// writes either); empty when absent.
std::vector<std::string> string_attribute(hid_t object, const char* name, const std::string& file) {
  if (H5Aexists(object, name) <= 0) return {};
  Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail(file, fmt::format("attribute '{}' is not a string", name));
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> values(n, nullptr);
    Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    if (H5Aread(attr.get(), memtype.get(), values.data()) < 0)
      fail(file, fmt::format("cannot read attribute '{}'", name));
    for (char* v : values) {
      out.emplace_back(v ? v : "");
      H5free_memory(v);
    }
  } else {
    // Read in the file's own type: a converted NULLTERM copy would give up the
    // last character of numpy's NULLPAD strings to the terminator.
    const size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(n * size + 1, '\0');
    if (H5Aread(attr.get(), type.get(), buffer.data()) < 0)
      fail(file, fmt::format("cannot read attribute '{}'", name));
    for (size_t i = 0; i < n; ++i) {
      const char* s = buffer.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}

KerasFile open_keras(const fs::path& path) {
  KerasFile k;
  k.path = path.string();
  if (!fs::exists(path)) fail(k.path, "no such file");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become our exceptions, not stderr dumps
  if (H5Fis_hdf5(k.path.c_str()) <= 0) fail(k.path, "not an HDF5 file (Keras .h5 weights)");
  k.file = std::make_unique<Handle>(H5Fopen(k.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!k.file->valid()) fail(k.path, "HDF5 cannot open it");
  k.weights_root = k.file->get();
  if (H5Lexists(k.file->get(), "model_weights", H5P_DEFAULT) > 0) {
    k.model_weights =
        std::make_unique<Handle>(H5Gopen2(k.file->get(), "model_weights", H5P_DEFAULT), H5Gclose);
    k.weights_root = k.model_weights->get();
  }
  if (string_attribute(k.weights_root, "layer_names", k.path).empty())
    fail(k.path, "no 'layer_names' attribute: not a Keras weight file");
  return k;
}

struct Array {
  std::vector<int64_t> shape;
  torch::Tensor values;
};

// The layer's weights in the order of its weight_names attribute.
std::vector<Array> layer_weights(const KerasFile& k, const std::string& layer) {
  if (H5Lexists(k.weights_root, layer.c_str(), H5P_DEFAULT) <= 0) return {};
  Handle group(H5Gopen2(k.weights_root, layer.c_str(), H5P_DEFAULT), H5Gclose);
  std::vector<Array> out;
  for (const auto& name : string_attribute(group.get(), "weight_names", k.path)) {
    Handle data(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!data.valid())
      fail(k.path, fmt::format("layer '{}' lists '{}' but has no such dataset", layer, name));
    Handle space(H5Dget_space(data.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    Array a;
    for (auto d : dims)
      a.shape.push_back(static_cast<int64_t>(d));
    a.values = torch::empty(a.shape, torch::kFloat32);
    if (H5Dread(data.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                a.values.data_ptr<float>()) < 0)
      fail(k.path, fmt::format("cannot read '{}/{}' as float32", layer, name));
    out.push_back(std::move(a));
  }
  return out;
}

// Our parameter prefix -> the Keras layer names that may hold it.
struct Target {
  std::string ours;
  std::vector<std::string> keras;
};

std::vector<Target> vgg16_targets() {
  std::vector<Target> out;
  const int convs_per_block[] = {2, 2, 3, 3, 3};
  int feature = 0;
  for (int b = 1; b <= 5; ++b) {
    for (int i = 1; i <= convs_per_block[b - 1]; ++i) {
      out.push_back({fmt::format("features.{}", feature),
                     {fmt::format("conv{}_{}", b, i), fmt::format("block{}_conv{}", b, i)}});
      feature += 2;  // conv, relu
    }
    feature += 1;  // pool
  }
  out.push_back({"classifier.0", {"fc1", "fc6"}});
  out.push_back({"classifier.3", {"fc2", "fc7"}});
  out.push_back({"classifier.6", {"predictions", "fc8"}});
  return out;
}

std::vector<Array> find_layer(const KerasFile& k, const Target& t, std::string& found) {
  for (const auto& name : t.keras) {
    auto w = layer_weights(k, name);
    if (!w.empty()) {
      found = name;
      return w;
    }
  }
  fail(k.path, fmt::format("no layer {} (the Keras VGG16 port's name for {})",
                           fmt::join(t.keras, " or "), t.ours));
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

KerasFileInfo read_info(const KerasFile& k) {
  KerasFileInfo info;
  const auto backend = string_attribute(k.file->get(), "backend", k.path);
  const auto backend_inner = string_attribute(k.weights_root, "backend", k.path);
  info.backend = !backend.empty() ? backend[0] : !backend_inner.empty() ? backend_inner[0] : "";
  std::string found;
  const auto conv1 = find_layer(k, vgg16_targets().front(), found);
  if (conv1.empty() || conv1[0].shape.size() != 4)
    fail(k.path, fmt::format("layer '{}' has no 4-D convolution kernel", found));
  const auto& s = conv1[0].shape;
  info.kernels_oihw = s[0] == 64 && s[1] == 3;  // (out, in, kh, kw) rather than (kh, kw, in, out)
  const auto config = string_attribute(k.file->get(), "model_config", k.path);
  const std::string cfg = config.empty() ? "" : config[0];
  // Keras 2 names the data format; Keras 1 the dimension ordering ("th" is
  // channels-first and comes with (out, in, kh, kw) kernels).
  info.channels_last = !(contains(cfg, "\"data_format\": \"channels_first\"") ||
                         contains(cfg, "\"dim_ordering\": \"th\"") || info.kernels_oihw);
  const auto predictions = find_layer(k, vgg16_targets().back(), found);
  if (predictions.empty() || predictions[0].shape.size() != 2)
    fail(k.path, fmt::format("layer '{}' has no 2-D kernel", found));
  info.num_classes = predictions[0].shape[1];
  return info;
}

}  // namespace

bool keras_import_available() {
  return true;
}

KerasFileInfo inspect_keras_vgg16(const fs::path& h5) {
  return read_info(open_keras(h5));
}

LoadReport import_keras_vgg16(SceneModel& model, const fs::path& h5, bool bgr_input) {
  if (model.arch() != "vgg16")
    throw ModelError(fmt::format(
        "Keras import supports vgg16 (the Keras VGG16-Places ports), not '{}'", model.arch()));
  const KerasFile k = open_keras(h5);
  const KerasFileInfo info = read_info(k);
  const bool theano = info.backend == "theano";
  auto params = model.named_parameters();
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // checked first, copied after
  for (const Target& t : vgg16_targets()) {
    std::string layer;
    auto weights = find_layer(k, t, layer);
    if (weights.size() != 2)
      fail(k.path, fmt::format("layer '{}' has {} weights, expected kernel and bias", layer,
                               weights.size()));
    torch::Tensor kernel = weights[0].values, bias = weights[1].values;
    const torch::Tensor target = params[t.ours + ".weight"];
    const auto expected = target.sizes();
    const auto shape_text = [](const std::vector<int64_t>& s) {
      return fmt::format("{}", fmt::join(s, "x"));
    };
    if (target.dim() == 4) {
      const auto& s = weights[0].shape;
      const bool hwio = s.size() == 4 && s[0] == expected[2] && s[1] == expected[3] &&
                        s[2] == expected[1] && s[3] == expected[0];
      const bool oihw = s.size() == 4 && torch::IntArrayRef(s) == expected;
      if (!hwio && !oihw) {
        fail(k.path,
             fmt::format("layer '{}' kernel is {}, {} needs {}x{}x{}x{} (kh, kw, in, out) or {}",
                         layer, shape_text(s), t.ours, expected[2], expected[3], expected[1],
                         expected[0], fmt::join(expected, "x")));
      }
      if (hwio && !oihw) kernel = kernel.permute({3, 2, 0, 1});
      if (theano) kernel = kernel.flip({2, 3});  // Theano convolves; torch correlates
      if (bgr_input && t.ours == "features.0") kernel = kernel.flip({1});  // BGR -> RGB
    } else {
      const auto& s = weights[0].shape;
      if (s.size() != 2 || s[0] != expected[1] || s[1] != expected[0]) {
        fail(k.path, fmt::format("layer '{}' kernel is {}, {} needs {}x{} (in, out)", layer,
                                 shape_text(s), t.ours, expected[1], expected[0]));
      }
      if (t.ours == "classifier.0" && info.channels_last) {
        // Keras flattened pool5 as H x W x C; torch flattens C x H x W.
        const int64_t channels = 512, side = 7;
        kernel =
            kernel.view({side, side, channels, -1}).permute({2, 0, 1, 3}).reshape({s[0], s[1]});
      }
      kernel = kernel.t();
    }
    if (bias.numel() != target.size(0))
      fail(k.path, fmt::format("layer '{}' bias has {} values, {} needs {}", layer, bias.numel(),
                               t.ours, target.size(0)));
    copies.emplace_back(target, kernel.contiguous());
    copies.emplace_back(params[t.ours + ".bias"], bias.view({-1}));
    report.loaded.push_back(fmt::format("{}.weight <- {}[0]", t.ours, layer));
    report.loaded.push_back(fmt::format("{}.bias <- {}[1]", t.ours, layer));
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies)
    target.copy_(value);
  log::info("{}: imported {} Keras tensors into vgg16 (backend {}, {})", k.path, copies.size(),
            info.backend.empty() ? "unnamed" : info.backend,
            info.channels_last ? "channels last" : "channels first");
  return report;
}

#else  // no HDF5

bool keras_import_available() {
  return false;
}

KerasFileInfo inspect_keras_vgg16(const fs::path& h5) {
  throw CheckpointError(fmt::format(
      "{}: this build has no HDF5 library; install libhdf5-dev and rebuild to import Keras weights",
      h5.string()));
}

LoadReport import_keras_vgg16(SceneModel&, const fs::path& h5, bool) {
  inspect_keras_vgg16(h5);
  return {};
}

#endif

}  // namespace scenery::models
