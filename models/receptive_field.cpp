#include "models/receptive_field.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <type_traits>

#include "core/error.h"
#include "models/resnet.h"

namespace scenery::models {

namespace {

int64_t square(torch::ExpandingArray<2> a, const std::string& name, const char* what) {
  if ((*a)[0] != (*a)[1]) {
    throw ModelError(fmt::format("layer '{}': a {}x{} {} has no single receptive-field size", name,
                                 (*a)[0], (*a)[1], what));
  }
  return (*a)[0];
}

template <class ConvOptions>
int64_t conv_padding(const ConvOptions& o, const std::string& name) {
  // padding() is a variant: c10::variant in LibTorch 1.13, std::variant in
  // 2.x; the unqualified visit() is found by argument-dependent lookup in either.
  const int64_t kernel = square(o.kernel_size(), name, "kernel");
  const int64_t dilation = square(o.dilation(), name, "dilation");
  return visit(
      [&](const auto& p) -> int64_t {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, torch::ExpandingArray<2>>) {
          return square(p, name, "padding");
        } else if constexpr (std::is_same_v<P, torch::enumtype::kSame>) {
          return dilation * (kernel - 1) / 2;  // 'same' keeps the centre where it was
        } else {
          return 0;  // 'valid'
        }
      },
      o.padding());
}

bool is_shortcut(const std::string& name) {
  return name.find("downsample") != std::string::npos;
}

}  // namespace

std::vector<LayerGeometry> layer_chain(const SceneModel& model) {
  std::vector<LayerGeometry> chain;
  const bool resnet_stem_pool = [&] {
    const auto* resnet = dynamic_cast<const ResNetImpl*>(model.module_ptr().get());
    return resnet && resnet->options().max_pool;
  }();
  for (const auto& item : model.module_ptr()->named_modules("", /*include_self=*/false)) {
    const std::string& name = item.key();
    const auto& m = item.value();
    if (name.rfind("inception", 0) == 0) {
      // Parallel branches: the longest path is the widest branch, not their sum.
      throw ModelError(fmt::format(
          "{}: the receptive field of a network with parallel (inception) branches is not "
          "computed by the chain walk",
          model.arch()));
    }
    if (is_shortcut(name)) continue;
    if (const auto* c = m->as<torch::nn::Conv2d>()) {
      const auto& o = c->options;
      chain.push_back({name, square(o.kernel_size(), name, "kernel"),
                       square(o.stride(), name, "stride"), square(o.dilation(), name, "dilation"),
                       conv_padding(o, name)});
    } else if (const auto* p = m->as<torch::nn::MaxPool2d>()) {
      const auto& o = p->options;
      chain.push_back({name, square(o.kernel_size(), name, "pooling window"),
                       square(o.stride(), name, "pooling stride"),
                       square(o.dilation(), name, "pooling dilation"),
                       square(o.padding(), name, "pooling padding")});
    } else if (const auto* a = m->as<torch::nn::AvgPool2d>()) {
      const auto& o = a->options;
      chain.push_back({name, square(o.kernel_size(), name, "pooling window"),
                       square(o.stride(), name, "pooling stride"), 1,
                       square(o.padding(), name, "pooling padding")});
    }
    // torchvision's stem: conv1, bn1, relu, then a functional 3x3 / 2 max-pool.
    if (resnet_stem_pool && name == "conv1") chain.push_back({"maxpool", 3, 2, 1, 1});
  }
  return chain;
}

std::vector<ReceptiveField> receptive_fields(const std::vector<LayerGeometry>& chain) {
  std::vector<ReceptiveField> out;
  int64_t size = 1, jump = 1;
  double start = 0;
  for (const auto& l : chain) {
    size += l.dilation * (l.kernel - 1) * jump;
    start +=
        (static_cast<double>(l.dilation * (l.kernel - 1)) / 2 - static_cast<double>(l.padding)) *
        static_cast<double>(jump);
    jump *= l.stride;
    out.push_back({l.name, size, jump, start});
  }
  return out;
}

ReceptiveField receptive_field_of(const SceneModel& model, const std::string& layer) {
  const auto fields = receptive_fields(layer_chain(model));
  const ReceptiveField* found = nullptr;
  std::vector<std::string> names;
  for (const auto& f : fields) {
    if (f.name == layer || f.name.rfind(layer + ".", 0) == 0) found = &f;
    names.push_back(f.name);
  }
  if (!found) {
    throw ModelError(fmt::format("{} has no layer '{}' with a receptive field (known: {})",
                                 model.arch(), layer, fmt::join(names, ", ")));
  }
  return *found;
}

}  // namespace scenery::models
