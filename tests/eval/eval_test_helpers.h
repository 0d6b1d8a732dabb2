// Shared by the evaluator tests: synthetic datasets in the real layouts.
#pragma once

#include <filesystem>
#include <string>

#include "data/synth.h"

namespace scenery::eval {

inline void write_synth(const std::string& layout, const std::filesystem::path& out, int classes,
                        int per_class, int size) {
  data::SynthOptions synth;
  synth.layout = layout;
  synth.out = out;
  synth.classes = classes;
  synth.per_class = per_class;
  synth.size = size;
  data::write_synthetic_dataset(synth);
}

}  // namespace scenery::eval
